"""simple_baselines (Xiao et al., ECCV 2018) in MindSpore: model, data pipeline, loss, config."""
