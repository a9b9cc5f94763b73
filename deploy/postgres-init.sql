-- One database per service: each service owns its data.
CREATE DATABASE directory;
CREATE DATABASE moderation;
CREATE DATABASE newsletter;
CREATE DATABASE search;
CREATE DATABASE content;
