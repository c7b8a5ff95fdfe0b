"""Sessions and pipelines: the stable Python API the bridge, the exporter and the CLI build on."""
