"""Access to the forum: the ForumClient port, the Discourse adapter and the simulator."""
