"""Dataset exports: TRL (standard, conversational), KTO and the full label table, as
JSONL or Parquet, streamed in constant memory, bundled with a codebook and data card."""
