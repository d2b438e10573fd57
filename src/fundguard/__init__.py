"""fundguard — 医保基金智能监管稽核平台 (medical-insurance fund supervision and audit platform)."""

__version__ = "0.1.0"
