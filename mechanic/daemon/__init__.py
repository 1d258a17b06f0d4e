"""Running as a service: the daemon loop, the file watcher, sd_notify, service
install, and doctor."""
