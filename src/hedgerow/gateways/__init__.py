"""Gateways: other systems' wire protocols served on top of Hedgerow's public client API.

Role: each sub-package (``thrift`` for HBase Thrift1/happybase, later ``rest`` and
``bigtable``) is a thin translation layer onto ``hedgerow.Connection``/``Table``;
none imports the engine, region or storage layers (the layer rule:
docs/design/overview.md#the-layer-rule), so the same gateway fronts embedded,
standalone and cluster deployments.
"""
