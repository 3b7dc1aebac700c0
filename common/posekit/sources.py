"""Where the real data sets come from: URLs, checksums, terms, and the manual steps some need.

Plain data only; `posekit.download` acts on it. Each URL carries a comment saying where it was
confirmed. A sha256 is filled in only where a published record gives it for exactly that file;
otherwise it is None and the digest measured on first download is recorded in the manifest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple


@dataclass(frozen=True)
class DataFile:
    url: str
    dest: str  # path relative to the data set root, "/"-separated
    sha256: Optional[str] = None
    size: Optional[int] = None  # bytes, when published
    extract: bool = False
    extract_to: str = ""  # directory (relative to the root) the archive is unpacked into


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    terms: str
    files: Tuple[DataFile, ...] = ()
    # True: the user must read `terms` and pass --accept-terms before anything is fetched.
    gated: bool = False
    # Non-empty: part of the data must be obtained by hand; these are the steps ({root} is
    # filled in). Shown while any of `expected_paths` is missing after the files are fetched.
    request_procedure: str = ""
    # Directory (relative to the root) to hand to the model's readers.
    data_dir: str = ""
    # Paths (relative to the root) that exist once the data set is complete on disk.
    expected_paths: Tuple[str, ...] = ()


# Per-scene handles of the Cambridge repository: 1810/251342 is KingsCollege only; the other
# scenes have their own records. Confirmed in hloc's pipelines/Cambridge/README.md
# (https://www.repository.cam.ac.uk/bitstream/handle/1810/<id>/<Scene>.zip).
_CAMBRIDGE_HANDLES = (
    ("KingsCollege", "251342"),
    ("OldHospital", "251340"),
    ("StMarysChurch", "251294"),
    ("ShopFacade", "251336"),
    ("GreatCourt", "251291"),
)

_CAMBRIDGE_TERMS = (
    "Cambridge Landmarks (Kendall, Grimes, Cipolla, 'PoseNet', ICCV 2015), published by the "
    "University of Cambridge repository: the licence is stated on each scene's record, e.g. "
    "https://www.repository.cam.ac.uk/handle/1810/{handle} . Cite the PoseNet paper."
)


def _cambridge(scene: str, handle: str) -> Dataset:
    return Dataset(
        name="cambridge-" + scene.lower(),
        description=f"Cambridge Landmarks scene {scene} (PoseNet)",
        terms=_CAMBRIDGE_TERMS.format(handle=handle),
        files=(
            DataFile(
                url=f"https://www.repository.cam.ac.uk/bitstream/handle/1810/{handle}/{scene}.zip",
                dest=scene + ".zip",
                extract=True,
            ),
        ),
        data_dir=scene,
        expected_paths=(scene + "/dataset_train.txt", scene + "/dataset_test.txt"),
    )


# KITTI odometry archives on the AVG S3 bucket, as linked from cvlibs.net/datasets/kitti/
# eval_odometry.php; URLs confirmed in several public download scripts (e.g.
# UniBwTAS/continuous_clustering scripts/kitti_odometry_downloader.sh, ybkurt/VIFT data_prep.sh).
# The zips unpack to dataset/sequences/NN/... and dataset/poses/NN.txt.
_KITTI_S3 = "https://s3.eu-central-1.amazonaws.com/avg-kitti/"

# COCO: images.cocodataset.org serves plain HTTP only (over HTTPS it presents a certificate for
# s3.amazonaws.com, so verification fails, see the coderabbit analysis in
# traceopt-ai/traceml#469 and cocodataset/cocodataset.github.io#60). We keep http and rely on the
# SHA-256 digests and sizes published in tensorflow/datasets url_checksums/coco2017.txt (the same
# values are in url_checksums/coco.txt).
_COCO = "http://images.cocodataset.org/"

# BOP hosts T-LESS on Hugging Face. The repository tree (huggingface.co/datasets/bop-benchmark/
# tless) confirmed tless_base.zip and tless_models.zip; the test and PBR archive names follow the
# BOP naming (bop.felk.cvut.cz/datasets) used by every BOP repository there (e.g.
# bop-benchmark/ycbv: ycbv_test_bop19.zip). tless_base.zip is pinned to the commit whose Git LFS
# pointer published its sha256 and size (commit e1895e6d), so the digest is exact.
_BOP_TLESS = "https://huggingface.co/datasets/bop-benchmark/tless/resolve/"
_TLESS_BASE_COMMIT = "e1895e6d3baa528489cdb3a524a1c210cef776a8"

# PAMTRI keypoint labels: files confirmed in NVlabs/PAMTRI at PoseEstNet/data/veri/annot/.
_PAMTRI_ANNOT = "https://raw.githubusercontent.com/NVlabs/PAMTRI/master/PoseEstNet/data/veri/annot/"

_VERI_PROCEDURE = """\
The PAMTRI keypoint labels are in {root}/annot/, but the VeRi-776 images cannot be downloaded
automatically: the authors hand them out on request.
  1. Read https://vehiclereid.github.io/VeRi/ and request VeRi-776 from the authors as described
     there (research use; they reply with a download link).
  2. Unpack the archive you receive, e.g. to /path/to/VeRi; it holds image_train/ and image_test/.
  3. Run the PAMTRI create_dataset step from pamtri_poseestnet/, which copies the labelled images:
       python src/utils/create_dataset.py --veri /path/to/VeRi --PoseData {root}
     (by hand: copy the images named in annot/label_train.csv from image_train/ to
     {root}/images/image_train/ and those in annot/label_test.csv from image_test/ to
     {root}/images/image_test/).
  4. Run the same download command again: it checks that images/image_train and
     images/image_test are in place."""


def _build() -> Dict[str, Dataset]:
    sets = [_cambridge(scene, handle) for scene, handle in _CAMBRIDGE_HANDLES]
    sets.append(
        Dataset(
            name="kitti-odometry",
            description="KITTI visual odometry: colour images, ground-truth poses, calibration",
            terms=(
                "KITTI is licensed under Creative Commons Attribution-NonCommercial-ShareAlike "
                "3.0 (CC BY-NC-SA 3.0): non-commercial use only. The authors ask you to register "
                "at https://www.cvlibs.net/datasets/kitti/eval_odometry.php and to cite Geiger, "
                "Lenz, Urtasun, 'Are we ready for Autonomous Driving?', CVPR 2012."
            ),
            files=tuple(
                DataFile(url=_KITTI_S3 + name, dest=name, extract=True)
                for name in (
                    "data_odometry_color.zip",
                    "data_odometry_poses.zip",
                    "data_odometry_calib.zip",
                )
            ),
            gated=True,
            data_dir="dataset",
            expected_paths=("dataset/sequences", "dataset/poses"),
        )
    )
    sets.append(
        Dataset(
            name="coco2017",
            description="COCO 2017 train/val images and annotations (person keypoints)",
            terms=(
                "COCO annotations: (c) COCO Consortium, CC BY 4.0. Images: Flickr Terms of Use; "
                "copyright stays with the photographers. See https://cocodataset.org/#termsofuse ."
            ),
            files=(
                DataFile(
                    url=_COCO + "zips/train2017.zip",
                    dest="train2017.zip",
                    sha256="69a8bb58ea5f8f99d24875f21416de2e9ded3178e903f1f7603e283b9e06d929",
                    size=19336861798,
                    extract=True,
                ),
                DataFile(
                    url=_COCO + "zips/val2017.zip",
                    dest="val2017.zip",
                    sha256="4f7e2ccb2866ec5041993c9cf2a952bbed69647b115d0f74da7ce8f4bef82f05",
                    size=815585330,
                    extract=True,
                ),
                DataFile(
                    url=_COCO + "annotations/annotations_trainval2017.zip",
                    dest="annotations_trainval2017.zip",
                    sha256="113a836d90195ee1f884e704da6304dfaaecff1f023f49b6ca93c4aaae470268",
                    size=252907541,
                    extract=True,
                ),
            ),
            expected_paths=(
                "train2017",
                "val2017",
                "annotations/person_keypoints_train2017.json",
                "annotations/person_keypoints_val2017.json",
            ),
        )
    )
    sets.append(
        Dataset(
            name="veri",
            description="VeRi-776 images (by request) with PAMTRI 36-keypoint labels (PoseEstNet)",
            terms=(
                "VeRi-776 is released by its authors on request for research use: "
                "https://vehiclereid.github.io/VeRi/ . The keypoint labels come from "
                "NVlabs/PAMTRI (https://github.com/NVlabs/PAMTRI, see its LICENSE)."
            ),
            files=tuple(
                DataFile(url=_PAMTRI_ANNOT + name, dest="annot/" + name)
                for name in ("label_train.csv", "label_test.csv")
            ),
            request_procedure=_VERI_PROCEDURE,
            expected_paths=(
                "annot/label_train.csv",
                "annot/label_test.csv",
                "images/image_train",
                "images/image_test",
            ),
        )
    )
    sets.append(
        Dataset(
            name="tless",
            description="T-LESS in BOP format: base, CAD models, BOP'19 test subset, PBR training",
            terms=(
                "T-LESS (Hodan et al., WACV 2017) as distributed by the BOP benchmark. The "
                "Hugging Face card of bop-benchmark/tless lists CC BY 4.0; read the T-LESS terms "
                "at http://cmp.felk.cvut.cz/t-less/ and the BOP terms at "
                "https://bop.felk.cvut.cz/datasets/ before use, and cite T-LESS and BOP."
            ),
            files=(
                DataFile(
                    url=_BOP_TLESS + _TLESS_BASE_COMMIT + "/tless_base.zip",
                    dest="tless_base.zip",
                    sha256="dd70ca884b7c471a530a952f70c5ab2c212f3d2c2f371be86397442b97d70a7e",
                    size=49597,
                    extract=True,
                ),
            )
            # base unpacks to tless/ itself; the others unpack into it (BOP's instructions).
            + tuple(
                DataFile(
                    url=_BOP_TLESS + "main/" + name, dest=name, extract=True, extract_to="tless"
                )
                for name in (
                    "tless_models.zip",
                    "tless_test_primesense_bop19.zip",
                    "tless_train_pbr.zip",
                )
            ),
            gated=True,
            data_dir="tless",
            expected_paths=("tless/models_cad", "tless/test_primesense", "tless/train_pbr"),
        )
    )
    return {d.name: d for d in sets}


DATASETS: Dict[str, Dataset] = _build()


def get_dataset(name: str) -> Dataset:
    try:
        return DATASETS[name]
    except KeyError:
        raise KeyError(
            "unknown data set {!r}; known: {}".format(name, ", ".join(sorted(DATASETS)))
        ) from None
