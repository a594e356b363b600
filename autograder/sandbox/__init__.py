"""Running untrusted student code in a child process that sends back plain data only."""
