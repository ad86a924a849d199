"""Owner-facing backend of a property service center (物业服务中心)."""
