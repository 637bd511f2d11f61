/**
 * The relay's health: components (storage, Redis, peer links, ...) report their own state
 * here; `GET /health` and the `tandem_health_degraded` metric read it. A degraded relay
 * still serves its clients — health says what it cannot promise right now.
 *
 * @module
 */

/** One component's state. `detail` is a short human-readable reason when not ok. */
export interface ComponentHealth {
  ok: boolean
  detail?: string
}

/** What `GET /health` answers. */
export interface HealthReport {
  /** False when any component is not ok (kept for clients that read `ok`). */
  ok: boolean
  status: 'ok' | 'degraded'
  components: Record<string, ComponentHealth>
}

/** Components' health, set by the components themselves. */
export class Health {
  private readonly components = new Map<string, ComponentHealth>()
  private readonly listeners = new Set<(report: HealthReport) => void>()

  /** Sets `component`'s state (replacing the previous one). */
  set(component: string, state: ComponentHealth): void {
    const before = this.components.get(component)
    this.components.set(component, state)
    if (before?.ok !== state.ok || before?.detail !== state.detail) this.emit()
  }

  /** Forgets `component` (it stopped). */
  delete(component: string): void {
    if (this.components.delete(component)) this.emit()
  }

  /** The current report. */
  report(): HealthReport {
    const components = Object.fromEntries(this.components)
    const ok = [...this.components.values()].every((c) => c.ok)
    return { ok, status: ok ? 'ok' : 'degraded', components }
  }

  /** Calls `listener` on every change; returns a function that stops it. */
  onChange(listener: (report: HealthReport) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private emit(): void {
    const report = this.report()
    for (const listener of this.listeners) listener(report)
  }
}
