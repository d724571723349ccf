"""`geoborder fetch`: assemble a source pack from open sources.

- geoBoundaries gbOpen (CC BY 4.0) through its API: ``{base}/gbOpen/{ISO3}/ADM{n}/`` answers a
  JSON object whose ``gjDownloadURL`` (full resolution) and ``simplifiedGeometryGeoJSON`` name the
  GeoJSON, with ``boundaryLicense``, ``licenseDetail``, ``licenseSource``, ``boundarySource``,
  ``boundaryYearRepresented`` and ``buildDate`` for the manifest. Features carry ``shapeName``,
  ``shapeISO``, ``shapeID``.
- OpenStreetMap extracts (ODbL) as PBF, read with pyosmium: roads, settlements, border gates,
  border markers and the admin_level=2 boundary.

Downloads are cached (by URL, with their sha256 in ``index.json``), resumed with HTTP Range after
a cut connection, and verified against a known checksum when there is one (a previous download,
a ``--pin`` manifest, or the ``.md5`` file an extract server publishes). A source that fails is
reported by name and the others still complete.

The pack follows the contract of ``layers/catalog.toml`` for every file an open source can give;
``pack.json`` and ``MANIFEST.md`` record URL, licence, attribution, date and sha256 of every file,
and list the contract files that open sources cannot give.
"""
