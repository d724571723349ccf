"""Names of the store's own tables, shared by the writer (`geoborder build`) and every reader
(the stores, `geoborder publish`)."""

META_LAYERS = "geoborder_layers"
META_SOURCES = "geoborder_sources"
META_BUILD = "geoborder_build"

# the non-spatial tables `geoborder build` writes (build._write_meta), with their columns
META_TABLE_COLUMNS = {
    META_LAYERS: (
        "layer_id",
        "title_vi",
        "title_en",
        "kind",
        "geometry_type",
        "key_field",
        "vintage",
        "source_file",
        "licence",
        "attribution",
        "source_vintage",
        "source_sha256",
        "feature_count",
        "repaired",
        "built_at",
    ),
    META_SOURCES: ("file", "sha256"),
    META_BUILD: ("key", "value"),
}
