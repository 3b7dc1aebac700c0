from posekit import onednn

AMD = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu avx avx2 avx512f avx512bw\n"


def cpuinfo(tmp_path, text):
    path = tmp_path / "cpuinfo"
    path.write_text(text + text.replace("processor\t: 0", "processor\t: 1"))
    return str(path)


def test_caps_amd_with_avx512(tmp_path):
    env = {}
    assert onednn.cap_isa_on_amd_avx512(env, cpuinfo(tmp_path, AMD))
    assert env == {"ONEDNN_MAX_CPU_ISA": "AVX2"}


def test_leaves_other_cpus_and_the_users_choice_alone(tmp_path):
    intel = AMD.replace("AuthenticAMD", "GenuineIntel")
    no_avx512 = AMD.replace(" avx512f avx512bw", "")
    for text in (intel, no_avx512):
        env = {}
        assert not onednn.cap_isa_on_amd_avx512(env, cpuinfo(tmp_path, text))
        assert env == {}
    for key in ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"):
        env = {key: "ALL"}
        assert not onednn.cap_isa_on_amd_avx512(env, cpuinfo(tmp_path, AMD))
        assert env == {key: "ALL"}
    env = {}
    assert not onednn.cap_isa_on_amd_avx512(env, str(tmp_path / "missing"))
    assert env == {}
