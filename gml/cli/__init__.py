"""Console scripts: search-init, search-run, search-ctl."""
