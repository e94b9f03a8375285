-- Extensions used by the app. Supabase keeps them in schema "extensions"
-- (pgcrypto and uuid-ossp are pre-installed there; "if not exists" is a no-op).
create extension if not exists pgcrypto with schema extensions;
create extension if not exists "uuid-ossp" with schema extensions;
create extension if not exists moddatetime with schema extensions;
