"""Volumes on Docker: configMap (and its updates), secret, downwardAPI, projected, and a
PersistentVolumeClaim whose data outlives the pod."""

from __future__ import annotations

from typing import Any

from tests.docker.conftest import BUSYBOX
from tests.docker.helpers import eventually


def test_config_map_volume_is_visible_and_follows_an_update(make_cluster: Any) -> None:
    c = make_cluster(nodes=1)
    c.apply(
        f"""
apiVersion: v1
kind: ConfigMap
metadata: {{name: settings}}
data: {{greeting: hello, color: blue}}
---
apiVersion: v1
kind: Secret
metadata: {{name: creds}}
stringData: {{password: s3cret}}
---
apiVersion: v1
kind: Pod
metadata: {{name: reader, labels: {{tier: demo}}}}
spec:
  terminationGracePeriodSeconds: 2
  volumes:
  - {{name: config, configMap: {{name: settings}}}}
  - {{name: picked, configMap: {{name: settings, items: [{{key: color, path: sub/colour, mode: 0600}}]}}}}
  - {{name: secret, secret: {{secretName: creds, defaultMode: 0400}}}}
  - name: info
    downwardAPI:
      items:
      - {{path: name, fieldRef: {{fieldPath: metadata.name}}}}
      - {{path: labels, fieldRef: {{fieldPath: metadata.labels}}}}
  - name: all
    projected:
      sources:
      - configMap: {{name: settings, items: [{{key: greeting, path: greeting}}]}}
      - secret: {{name: creds}}
      - downwardAPI: {{items: [{{path: ns, fieldRef: {{fieldPath: metadata.namespace}}}}]}}
  containers:
  - name: app
    image: {BUSYBOX}
    imagePullPolicy: Never
    command: [sh, -c, 'trap "exit 0" TERM; sleep 3600 & wait']
    volumeMounts:
    - {{name: config, mountPath: /etc/config}}
    - {{name: picked, mountPath: /etc/picked}}
    - {{name: secret, mountPath: /etc/secret}}
    - {{name: info, mountPath: /etc/info}}
    - {{name: all, mountPath: /etc/all}}
"""
    )
    c.wait("pods", name="reader", condition="Ready", timeout=30)

    def run(command: str) -> str:
        result = c.plane.run(c.plane.kubelets.exec("default", "reader", "app", ["sh", "-c", command]))
        assert result.exit_code == 0, result
        return result.output

    assert run("cat /etc/config/greeting; echo; cat /etc/config/color") == "hello\nblue"
    assert run("ls /etc/config") == "color\ngreeting\n"
    assert run("cat /etc/picked/sub/colour; stat -L -c %a /etc/picked/sub/colour") == "blue600\n"
    assert run("cat /etc/secret/password; stat -L -c %a /etc/secret/password") == "s3cret400\n"
    assert run("cat /etc/info/name; echo; cat /etc/info/labels") == 'reader\ntier="demo"'
    assert run("cat /etc/all/greeting /etc/all/password /etc/all/ns") == "hellos3cretdefault"
    assert run("touch /etc/config/x 2>&1; echo $?").strip().endswith("1")  # read-only

    c.kubectl('patch configmap settings -p \'{"data":{"greeting":"bonjour"}}\'')
    eventually(lambda: run("cat /etc/config/greeting") == "bonjour", timeout=15, what="the update")
    eventually(lambda: run("cat /etc/all/greeting") == "bonjour", timeout=15, what="the projected update")
    assert run("cat /etc/config/color") == "blue"


def test_a_claims_data_outlives_its_pod(make_cluster: Any) -> None:
    c = make_cluster(nodes=1)
    pod = f"""
apiVersion: v1
kind: Pod
metadata: {{name: NAME}}
spec:
  restartPolicy: Never
  volumes: [{{name: data, persistentVolumeClaim: {{claimName: store}}}}]
  containers:
  - name: app
    image: {BUSYBOX}
    imagePullPolicy: Never
    command: [sh, -c, 'cat /data/note 2>/dev/null; echo written-by-NAME > /data/note']
    volumeMounts: [{{name: data, mountPath: /data}}]
"""
    c.apply(
        """
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: store}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Mi}}
"""
    )
    c.apply(pod.replace("NAME", "first"))
    c.wait("pods", name="first", condition="Succeeded", timeout=60)
    c.kubectl("delete pod first")
    c.apply(pod.replace("NAME", "second"))
    c.wait("pods", name="second", condition="Succeeded", timeout=60)
    assert c.kubectl("logs second").strip() == "written-by-first"
