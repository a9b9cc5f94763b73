#!/usr/bin/env bash
# Makes sure a RabbitMQ broker with the management plugin answers on this machine:
# installs it with apt when missing (as root), starts it when stopped. Skipped when AMQP_URI names another host.
set -euo pipefail

uri="${AMQP_URI:-pyamqp://guest:guest@localhost:5672/}"
case "$uri" in
  *@localhost*|*@127.0.0.1*) ;;
  *) echo "AMQP_URI points at another broker; not managing a local RabbitMQ."; exit 0 ;;
esac

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! command -v rabbitmq-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing RabbitMQ (apt-get install rabbitmq-server)…"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
  else
    echo "RabbitMQ is not installed. Install it with: sudo apt-get install -y rabbitmq-server" >&2
    exit 1
  fi
fi

if ! port_open 5672; then
  echo "Starting RabbitMQ…"
  rabbitmq-server -detached
  for _ in $(seq 1 60); do port_open 5672 && break; sleep 1; done
  port_open 5672 || { echo "RabbitMQ did not start; see /var/log/rabbitmq/" >&2; exit 1; }
fi

# nameko's test fixtures create a vhost per test through the management API.
if ! port_open 15672; then
  rabbitmq-plugins enable --quiet rabbitmq_management >/dev/null
  for _ in $(seq 1 60); do port_open 15672 && break; sleep 1; done
fi
port_open 15672 || { echo "RabbitMQ's management plugin does not answer on 15672" >&2; exit 1; }
