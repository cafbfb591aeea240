"""The provider kit: what every cloud provider shares.

- `references`: typed cross-references (`Ref`), resolved only where a spec declares one.
- `resources`: the typed resource model (`Spec`, `Desired`, `Observed`, `KindRules`).
- `diff`: the pure desired-vs-observed planner; `execute`: the only I/O, with per-cloud error
  classification; `cloud_plan`: the plan document; `flow`: observe -> build -> diff -> execute.
- `ownership`: how a provider marks and recognises what it owns (tags, labels, name + marker).
- `retry`, `naming`, `limits`: tenacity policy, bounded hashed names, weights and priority waves.

Nothing here imports a cloud SDK.
"""
