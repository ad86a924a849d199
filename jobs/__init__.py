"""RQ job functions. Each takes ids, reloads, checks a guard, acts through server services, commits."""
