"""Platform adapters: translate native messages to bot.model and send replies back."""
