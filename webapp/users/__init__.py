"""User accounts (用户管理): the administrator creates, edits, disables, approves and unlocks them."""
