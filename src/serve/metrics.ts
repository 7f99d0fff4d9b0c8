// Server metrics in the Prometheus text exposition format
// (https://prometheus.io/docs/instrumenting/exposition_formats/): request counts by route and status, prompt and
// generated tokens, queue depth and running sequences, and histograms of time to first token and inter-token
// latency (the figures vLLM exports under vllm:*).

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

class Histogram {
  readonly counts = new Array<number>(LATENCY_BUCKETS.length).fill(0);
  sum = 0;
  count = 0;

  observe(seconds: number): void {
    this.sum += seconds;
    this.count++;
    const i = LATENCY_BUCKETS.findIndex((b) => seconds <= b);
    if (i >= 0) this.counts[i]++;
  }

  render(name: string, help: string): string[] {
    const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
    let cumulative = 0;
    LATENCY_BUCKETS.forEach((b, i) => {
      cumulative += this.counts[i];
      lines.push(`${name}_bucket{le="${b}"} ${cumulative}`);
    });
    lines.push(`${name}_bucket{le="+Inf"} ${this.count}`, `${name}_sum ${this.sum}`, `${name}_count ${this.count}`);
    return lines;
  }
}

export class ServeMetrics {
  private readonly requests = new Map<string, number>();
  promptTokens = 0;
  generationTokens = 0;
  readonly ttft = new Histogram();
  readonly itl = new Histogram();

  countRequest(route: string, status: number): void {
    const key = `route="${route}",status="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  requestCount(route: string, status: number): number {
    return this.requests.get(`route="${route}",status="${status}"`) ?? 0;
  }

  render(gauges: { waiting: number; running: number; reusedTokens: number }): string {
    const lines = [
      '# HELP olmo_requests_total HTTP requests answered, by route and status.',
      '# TYPE olmo_requests_total counter',
    ];
    for (const [labels, n] of [...this.requests].sort()) lines.push(`olmo_requests_total{${labels}} ${n}`);
    const scalar = (name: string, type: string, help: string, v: number) =>
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${v}`);
    scalar('olmo_prompt_tokens_total', 'counter', 'Prompt tokens of admitted requests.', this.promptTokens);
    scalar('olmo_generation_tokens_total', 'counter', 'Tokens generated.', this.generationTokens);
    scalar(
      'olmo_prefix_cache_hit_tokens_total',
      'counter',
      'Prompt tokens taken from a KV-cache prefix held from an earlier request.',
      gauges.reusedTokens,
    );
    scalar('olmo_num_requests_waiting', 'gauge', 'Sequences waiting for a KV-cache slot.', gauges.waiting);
    scalar('olmo_num_requests_running', 'gauge', 'Sequences being prefilled or decoded.', gauges.running);
    lines.push(
      ...this.ttft.render(
        'olmo_time_to_first_token_seconds',
        'Time from a request arriving to its first generated token.',
      ),
    );
    lines.push(
      ...this.itl.render(
        'olmo_inter_token_latency_seconds',
        'Time between consecutive generated tokens of a sequence.',
      ),
    );
    return lines.join('\n') + '\n';
  }
}
