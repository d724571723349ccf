"""The FastAPI service: routing, parameters and responses. GIS logic lives in geoborder/."""
