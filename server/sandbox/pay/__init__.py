"""WeChat Pay APIv3 in the sandbox: JSAPI orders, query, close, refunds, trade bills, notifications.

The wire formats are WeChat Pay's (see the "WeChat Pay" section of ``server.sandbox.app``'s
docstring for the conventions): every request must carry a valid ``Authorization`` header signed
with the merchant key, every answer is signed with the platform key, and payment and refund
results are pushed to the merchant's ``notify_url`` as signed, AES-256-GCM encrypted
notifications, retried until acknowledged.

The modules, from the bottom up:

- ``wire``: endpoint paths, the ``{"code", "message"}`` error, JSON and time formats.
- ``settings``: the ``SANDBOX_PAY_*`` configuration.
- ``crypto``: the keys, the merchant's request signature, signed answers, encrypted resources.
- ``records``: orders, refunds and the rest of the state, in `PayState` behind one lock.
- ``notify``: notifications, their deliveries, retries, notify-again and tampering.
- ``orders``, ``refunds``, ``bills``: the endpoints, one part each.
- ``service``: `PayService`, the parts over one state (``app.extensions["sandbox_pay"]``).
- ``routes``: `register_pay_api`, the Flask wiring of the endpoints and ``/sandbox/pay/*``.

(``server.sandbox.pay_defaults`` stays outside the package: the product imports its constants
without Flask.)
"""
