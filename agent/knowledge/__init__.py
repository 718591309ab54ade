"""What the agent knows beyond the schema: saved questions and notes (memory) and how they are found."""
