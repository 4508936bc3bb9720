"""Messages that are never lost: a transactional outbox (docs/messages.md).

A change writes its messages into `outbox_messages` in its own transaction (`enqueue_message`);
workers deliver them after the commit, retrying with backoff, through a small registry of channels
(`webapp/outbox/channels.py`: email, webhook; work apps can plug in)."""
