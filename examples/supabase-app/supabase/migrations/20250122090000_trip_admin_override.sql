-- Support staff need to clean up abandoned trips.
drop policy "Owners can delete their trips" on public.trips;

create policy "Owners and staff can delete trips"
  on public.trips for delete
  to authenticated
  using (
    owner_id = (select auth.uid())
    or ((select auth.jwt()) -> 'user_metadata' ->> 'role') = 'staff'
  );
