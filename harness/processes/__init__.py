"""Child processes of the harness: process groups that die with their parent, their
output as lines, and free loopback ports for them to listen on."""
