-- Private bucket for trip photos. Object names are "<trip id>/<file name>", so
-- the first folder says which trip a photo belongs to.
insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
values ('trip-photos', 'trip-photos', false, 10485760, array['image/jpeg', 'image/png', 'image/webp'])
on conflict (id) do nothing;

create policy "Trip photos are visible to whoever can see the trip"
  on storage.objects for select
  to authenticated
  using (
    bucket_id = 'trip-photos'
    and exists (
      select 1 from public.trips t
      where t.id::text = (storage.foldername(name))[1]
    )
  );

create policy "Trip owners can upload trip photos"
  on storage.objects for insert
  to authenticated
  with check (
    bucket_id = 'trip-photos'
    and exists (
      select 1 from public.trips t
      where t.id::text = (storage.foldername(name))[1]
        and t.owner_id = (select auth.uid())
    )
  );

create policy "Uploaders can replace their trip photos"
  on storage.objects for update
  to authenticated
  using (bucket_id = 'trip-photos' and owner_id = (select auth.uid())::text)
  with check (bucket_id = 'trip-photos' and owner_id = (select auth.uid())::text);

create policy "Uploaders can delete their trip photos"
  on storage.objects for delete
  to authenticated
  using (bucket_id = 'trip-photos' and owner_id = (select auth.uid())::text);
