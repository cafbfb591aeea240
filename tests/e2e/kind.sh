#!/usr/bin/env bash
# The on-prem quick start (docs/quickstart-onprem.md), end to end, on a throw-away kind cluster.
#
# NOT RUN BY `make test` OR CI: it needs Docker, kind, kubectl, Helm 3 and network access to pull the
# Gateway API CRDs and the echo image, none of which Portico's CI machine has. Run it yourself:
#
#     tests/e2e/kind.sh            # creates the cluster `portico`, runs the guide, deletes the cluster
#     KEEP_CLUSTER=1 tests/e2e/kind.sh
#
# tests/install/test_quickstart.py checks that every command of the guide appears here, in order.
set -euo pipefail
cd "$(dirname "$0")/../.."

for tool in docker kind kubectl helm curl; do
  command -v "$tool" >/dev/null || { echo "kind.sh: $tool is required" >&2; exit 2; }
done

forward_pid=""
cleanup() {
  [ -n "$forward_pid" ] && kill "$forward_pid" 2>/dev/null || true
  if [ -z "${KEEP_CLUSTER:-}" ]; then
    kind delete cluster --name portico || true
  fi
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }

step "1. A cluster with the Gateway API CRDs"
kind create cluster --name portico
kubectl apply --server-side -f https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.6.1/standard-install.yaml
kubectl wait --for condition=Established crd/gateways.gateway.networking.k8s.io

step "2. The Portico image"
docker build -t portico/portico:0.1.0 .
kind load docker-image portico/portico:0.1.0 --name portico

step "3. Install Portico"
helm install portico charts/portico --namespace portico-system --create-namespace \
  --set providers.proxy.parameters.serviceType=NodePort \
  --set providers.proxy.parameters.replicas=1 \
  --set replicaCount=1
kubectl -n portico-system rollout status deployment/portico
kubectl get gatewayclass portico-proxy
kubectl wait --for condition=Accepted gatewayclass/portico-proxy --timeout=60s

step "4. Your first Gateway and route"
kubectl apply -f examples/quickstart-onprem/
kubectl -n demo rollout status deployment/echo --timeout=180s

step "5. Read the status"
kubectl -n demo get gateway web
kubectl -n demo wait --for condition=Programmed gateway/web --timeout=120s
kubectl -n demo get httproute echo -o jsonpath='{range .status.parents[*].conditions[*]}{.type}={.status} {.reason}: {.message}{"\n"}{end}'
route_status=$(kubectl -n demo get httproute echo -o jsonpath='{range .status.parents[*].conditions[*]}{.type}={.status} {.reason}: {.message}{"\n"}{end}')
grep -q '^Accepted=True Accepted' <<<"$route_status" || { echo "route not accepted" >&2; exit 1; }
grep -q '^ResolvedRefs=True ResolvedRefs' <<<"$route_status" || { echo "route refs not resolved" >&2; exit 1; }

step "6. Send a request"
kubectl -n demo rollout status deployment/portico-web --timeout=120s
kubectl -n demo port-forward service/portico-web 8080:80 &
forward_pid=$!
for _ in $(seq 1 30); do
  curl -fsS -o /dev/null -H 'Host: echo.example.com' http://127.0.0.1:8080/hostname && break
  sleep 1
done
curl -H 'Host: echo.example.com' http://127.0.0.1:8080/hostname
answer=$(curl -fsS -H 'Host: echo.example.com' http://127.0.0.1:8080/hostname)
[[ "$answer" == echo-* ]] || { echo "expected an echo pod's name, got: $answer" >&2; exit 1; }
status=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: other.example.com' http://127.0.0.1:8080/hostname)
[ "$status" = 404 ] || { echo "expected 404 for an unrouted host, got $status" >&2; exit 1; }

step "Clean up"
kill "$forward_pid"; forward_pid=""
kubectl delete -f examples/quickstart-onprem/
helm uninstall portico --namespace portico-system
echo "kind.sh: the on-prem quick start works"
