"""Scalars from running jobs into the store: ``gml.report``'s JSON lines (``report_files``) and TensorBoard event
files (``tensorboard``)."""
