-- The name the web app greets the user by; optional, set in Settings.
alter table app_user add column display_name text check (char_length(display_name) between 1 and 100);
