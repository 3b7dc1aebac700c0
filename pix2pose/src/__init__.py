"""Pix2Pose (Park, Patten and Vincze, ICCV 2019) in TensorFlow 1.15."""
