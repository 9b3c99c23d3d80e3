/**
 * @module web/app/pages/dashboard
 * The dashboard (filled in by the dashboard step).
 * Touches: nothing.
 */
export default function Dashboard() {
  return (
    <section>
      <h1>Dashboard</h1>
    </section>
  );
}
