"""Datasets for mm training registered in gml DATASETS."""
