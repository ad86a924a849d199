"""Photo uploads: owners attach photos to repair reports and complaints, workers to completed jobs.

`services.store` keeps an image (sniffed, never trusted from the client), `services.attach` hands uploads
to a record of another module (work orders), scopes them to its community and records the link,
`services.may_read` says who may see one: staff only when they may see a record it is attached to, by the
check the record's module registers (`services.register_visibility`, wired in server/app.py). Bytes live in
the backend chosen by UPLOAD_BACKEND (`storage.py`).
"""
