from src.config.default import Config, load_config, save_config

__all__ = ["Config", "load_config", "save_config"]
