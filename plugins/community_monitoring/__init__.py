"""Community monitoring: watch community channels and post what needs an answer to Mattermost."""
