"""Alert channels: email (SMTP), Discord, signed webhooks and the recovery hook.

A notifier's ``send`` delivers one payload or raises ``TransportError``, saying
whether the failure is worth retrying.
"""
