"""LLM evaluation tasks: multiple choice, generation, code, judged answers."""
