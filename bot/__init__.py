"""studybot: a chatbot that runs a machine-learning self-study group (ML自学者俱乐部)."""

__version__ = "0.1.0"
