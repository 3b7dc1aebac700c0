"""PoseNet sources: data set, network, loss, training helpers, pretrained import."""
