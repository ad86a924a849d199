"""Photo uploads: owners attach photos to repair reports and complaints, workers to completed jobs.

`services.store` keeps an image (sniffed, never trusted from the client), `services.attach` hands uploads
to a record of another module (work orders) and scopes them to its community, `services.may_read` says
who may see one. Bytes live in the backend chosen by UPLOAD_BACKEND (`storage.py`).
"""
