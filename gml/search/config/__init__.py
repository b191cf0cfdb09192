"""A search config from YAML to validated objects: the config itself (``search_config``), the command template
(``template``), durations, File-arg copies (``file_args``) and building the registered parts (``build``)."""
from .search_config import SearchConfig, load_search_config, parse_search_config

__all__ = ["SearchConfig", "load_search_config", "parse_search_config"]
