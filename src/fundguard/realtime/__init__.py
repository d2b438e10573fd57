"""事中/事前 real-time audit: the batch rule library judged per settlement or prescription (docs/realtime-audit.md)."""
