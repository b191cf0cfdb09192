"""mmcv hooks registered in gml HOOKS."""
