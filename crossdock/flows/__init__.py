"""Business workflows as handlers over events (order-to-cash first), and the projections they keep
for the API and the dashboard: orders with their steps, and the exceptions queue."""
