"""kubectl's verbs over a cluster: parse a command line, do what kubectl does, answer
with kubectl's words. No I/O of its own (files through yamlio; time through the clock;
the kubeconfig through :mod:`nbcluster.cli.contexts`).

``Kubectl(cluster).run("get pods -n web -o wide")`` returns a pandas DataFrame for
tables (a :class:`~nbcluster.cli.tables.TableGroup` for several kinds), text
(:class:`Output`, a ``str``) for everything else, ``None`` when it printed as it went
(``rollout status``, ``logs -f`` given an ``out`` callback). A line that does not
parse raises :class:`~nbcluster.errors.UsageError` worded like kubectl, with a
suggestion for a misspelled verb or flag; :func:`format_error` words any
:class:`~nbcluster.errors.NbClusterError` the way kubectl prints it on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import difflib
import json
import queue
import re
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import pandas as pd

from nbcluster.api import resources
from nbcluster.api.resources import ResourceInfo
from nbcluster.api.yamlio import dump_yaml, load_documents
from nbcluster.cli import apply as apply_verbs
from nbcluster.cli import contexts
from nbcluster.cli.describe import describe
from nbcluster.cli.explain import explain_text
from nbcluster.cli.jsonpath import JSONPath, go_sprint, relaxed
from nbcluster.cli.printers import human_duration
from nbcluster.cli.tables import TableGroup, empty_table, mark, table
from nbcluster.errors import (
    AlreadyExists,
    ApplyFailed,
    BadRequest,
    Conflict,
    Forbidden,
    NbClusterError,
    NotFound,
    RuntimeUnavailable,
    Timeout,
    UnknownResource,
    UsageError,
    ValidationError,
    YAMLError,
)
from nbcluster.util.clock import format_time, parse_time

if TYPE_CHECKING:
    from nbcluster.cluster import Cluster

__all__ = [
    "NETWORKING_ISSUE",
    "VERBS",
    "ExecOutput",
    "Kubectl",
    "Output",
    "format_error",
    "rollout_status_message",
]

Obj = dict[str, Any]
Printer = Callable[[str], None]

#: Where port-forward (and the rest of Services' networking) gets built.
NETWORKING_ISSUE = "issue 5: Services, port-forward, in-cluster DNS and traffic-driven autoscaling"


class Output(str):
    """kubectl's text answer; shows as plain text in a notebook."""

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


class ExecOutput(Output):
    """What ``exec`` printed, with the command's exit code."""

    exit_code: int = 0

    def __new__(cls, text: str, exit_code: int = 0) -> ExecOutput:
        obj = super().__new__(cls, text)
        obj.exit_code = exit_code
        return obj


# ------------------------------------------------------------------------ errors


def format_error(exc: NbClusterError) -> str:
    """How kubectl words an error on stderr (``Error from server (NotFound): …``, ``error: …``)."""
    message = str(exc).rstrip("\n")
    if isinstance(exc, ApplyFailed):
        return "\n".join(_document_error(index, what, err) for index, what, err in exc.failures)
    if message.startswith(("error:", "Error from server")):
        return message
    if isinstance(exc, ValidationError):
        # kubectl's CheckErr: "The Deployment "web" is invalid: ..." (strict decoding errors as they are)
        return message if message.startswith("error") else f"The {message}"
    if isinstance(exc, (UsageError, UnknownResource, YAMLError, Timeout, RuntimeUnavailable)):
        return f"error: {message}"
    if isinstance(exc, (NotFound, AlreadyExists, Conflict, Forbidden, BadRequest)):
        return f"Error from server ({exc.reason}): {message}"
    return f"error: {message}"


def _document_error(index: int, what: str, err: NbClusterError) -> str:
    text = format_error(err)
    where = f"document {index + 1}, {what}"
    if text.startswith("Error from server ("):
        head, _, tail = text.partition("): ")
        return f"{head}): error when applying {where}: {tail}"
    if text.startswith("error: "):
        return f"error: {where}: {text[len('error: ') :]}"
    return f"{text} ({where})"


class _Help(Exception):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


# ------------------------------------------------------------------------ help texts


@dataclass(frozen=True)
class _VerbHelp:
    group: str
    short: str
    usage: str
    examples: str = ""


_GROUPS = (
    "Basic Commands (Beginner)",
    "Basic Commands (Intermediate)",
    "Deploy Commands",
    "Cluster Management Commands",
    "Troubleshooting and Debugging Commands",
    "Advanced Commands",
    "Settings Commands",
    "Other Commands",
)

_HELP: dict[str, _VerbHelp] = {
    "create": _VerbHelp(
        "Basic Commands (Beginner)",
        "Create a resource from a file or from stdin",
        "create -f FILENAME | create (namespace|deployment|configmap) NAME [options]",
        "  # Create the objects of a cell\n  %%kube create\n\n"
        "  # Create a namespace\n  kubectl create namespace demo\n\n"
        "  # Create a deployment running nginx with 3 replicas\n"
        "  kubectl create deployment web --image=nginx --replicas=3",
    ),
    "run": _VerbHelp(
        "Basic Commands (Beginner)",
        "Run a particular image on the cluster",
        "run NAME --image=image [--port=port] [--labels=k=v] [--restart=Always|Never] [-- COMMAND ARGS...]",
        "  # Start a nginx pod\n  kubectl run nginx --image=nginx",
    ),
    "set": _VerbHelp(
        "Basic Commands (Beginner)",
        "Set specific features on objects",
        "set image (-f FILENAME | TYPE NAME) CONTAINER_NAME_1=CONTAINER_IMAGE_1 ...",
        "  # Set a deployment's nginx container image to 'nginx:1.25'\n"
        "  kubectl set image deployment/web nginx=nginx:1.25",
    ),
    "explain": _VerbHelp(
        "Basic Commands (Intermediate)",
        "Get documentation for a resource",
        "explain TYPE[.FIELDNAME] [--recursive] [--api-version=GROUP/VERSION]",
        "  # Get the documentation of the resource and its fields\n  kubectl explain pods\n\n"
        "  # Get the documentation of a specific field of a resource\n"
        "  kubectl explain pods.spec.containers",
    ),
    "get": _VerbHelp(
        "Basic Commands (Intermediate)",
        "Display one or many resources",
        "get [(-o|--output=)json|yaml|name|wide|jsonpath=...|custom-columns=...] "
        "(TYPE[.VERSION][.GROUP] [NAME | -l label] | TYPE[.VERSION][.GROUP]/NAME ...) [flags]",
        "  # List all pods in the current namespace\n  kubectl get pods\n\n"
        "  # List all pods with more information (such as node name)\n  kubectl get pods -o wide\n\n"
        "  # List pods of every namespace, with a label selector\n  kubectl get pods -A -l app=web\n\n"
        "  # Names of the pods, with a JSONPath template\n"
        "  kubectl get pods -o jsonpath='{.items[*].metadata.name}'\n\n"
        "  # Deployments, replica sets, pods and services together\n  kubectl get all",
    ),
    "delete": _VerbHelp(
        "Basic Commands (Intermediate)",
        "Delete resources by file names, stdin, resources and names, or by resources and label selector",
        "delete ([-f FILENAME] | TYPE [(NAME | -l label | --all)])",
        "  # Delete the objects of a cell\n  %%kube delete\n\n"
        "  # Delete a pod and a deployment\n  kubectl delete pod/web deployment/api\n\n"
        "  # Delete pods by label\n  kubectl delete pods -l app=web",
    ),
    "rollout": _VerbHelp(
        "Deploy Commands",
        "Manage the rollout of a resource",
        "rollout (history|pause|restart|resume|status|undo) TYPE/NAME",
        "  # Watch a deployment roll out\n  kubectl rollout status deployment/web\n\n"
        "  # Roll back to the previous revision\n  kubectl rollout undo deployment/web",
    ),
    "scale": _VerbHelp(
        "Deploy Commands",
        "Set a new size for a deployment, replica set, or replication controller",
        "scale [--current-replicas=count] --replicas=COUNT (-f FILENAME | TYPE NAME)",
        "  # Scale a deployment named 'web' to 3\n  kubectl scale --replicas=3 deployment/web",
    ),
    "top": _VerbHelp(
        "Cluster Management Commands",
        "Display resource (CPU/memory) usage",
        "top (node|pod) [NAME | -l label] [-A] [--containers] [--sort-by=cpu|memory] [--sum]",
        "  # Usage of the pods of the current namespace\n  kubectl top pods\n\n"
        "  # Usage of the nodes\n  kubectl top nodes",
    ),
    "cordon": _VerbHelp("Cluster Management Commands", "Mark node as unschedulable", "cordon NODE"),
    "uncordon": _VerbHelp("Cluster Management Commands", "Mark node as schedulable", "uncordon NODE"),
    "drain": _VerbHelp(
        "Cluster Management Commands",
        "Drain node in preparation for maintenance",
        "drain NODE [--ignore-daemonsets] [--delete-emptydir-data] [--force]",
    ),
    "cluster": _VerbHelp(
        "Cluster Management Commands",
        "Create, list and delete clusters (like k3d)",
        "cluster (create NAME [--agents N] [--runtime auto|docker|process|simulated] | list | delete NAME)",
        "  # A second cluster with two agent nodes; it becomes the current context\n"
        "  kubectl cluster create dev --agents 2\n\n  kubectl cluster list\n"
        "  kubectl cluster delete dev",
    ),
    "describe": _VerbHelp(
        "Troubleshooting and Debugging Commands",
        "Show details of a specific resource or group of resources",
        "describe (-f FILENAME | TYPE [NAME_PREFIX | -l label] | TYPE/NAME)",
        "  # Describe a pod\n  kubectl describe pod web-7d4b9c\n\n"
        "  # Describe all pods managed by the 'web' deployment\n  kubectl describe pods -l app=web",
    ),
    "logs": _VerbHelp(
        "Troubleshooting and Debugging Commands",
        "Print the logs for a container in a pod",
        "logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]",
        "  # Logs of a pod (its only container)\n  kubectl logs web-7d4b9c\n\n"
        "  # The last 20 lines of the previous instance of container 'app'\n"
        "  kubectl logs web-7d4b9c -c app --previous --tail=20\n\n"
        "  # Logs of every pod with label app=web\n  kubectl logs -l app=web",
    ),
    "exec": _VerbHelp(
        "Troubleshooting and Debugging Commands",
        "Execute a command in a container",
        "exec (POD | TYPE/NAME) [-c CONTAINER] -- COMMAND [args...]",
        "  # Run 'date' in pod web-7d4b9c\n  kubectl exec web-7d4b9c -- date",
    ),
    "port-forward": _VerbHelp(
        "Troubleshooting and Debugging Commands",
        "Forward one or more local ports to a pod",
        "port-forward TYPE/NAME [LOCAL_PORT:]REMOTE_PORT [...] | --list | --stop [all|LOCAL_PORT|TYPE/NAME]",
        "  # Forward 127.0.0.1:8888 to port 80 of pod nginx (in the background)\n"
        "  kubectl port-forward nginx 8888:80\n\n"
        "  # Through a service: keeps working while its pods are replaced\n"
        "  kubectl port-forward svc/web 8080:80\n\n"
        "  # A random local port, every address of a list\n"
        "  kubectl port-forward deploy/web :80 --address 127.0.0.1\n\n"
        "  # What runs, and stopping it\n  kubectl port-forward --list\n  kubectl port-forward --stop 8888",
    ),
    "service": _VerbHelp(
        "Troubleshooting and Debugging Commands",
        "Print the URL the notebook reaches a service at (like minikube service)",
        "service NAME [--url] | --all",
        "  # The URL of service web (a NodePort, or a port-forward for a ClusterIP service)\n"
        "  kubectl service web --url",
    ),
    "events": _VerbHelp(
        "Troubleshooting and Debugging Commands",
        "List events",
        "events [--for TYPE/NAME] [--types=Normal,Warning] [-A]",
        "  # List recent events in the current namespace\n  kubectl events\n\n"
        "  # Events of one pod\n  kubectl events --for pod/web-7d4b9c",
    ),
    "apply": _VerbHelp(
        "Advanced Commands",
        "Apply a configuration to a resource by file name or stdin",
        "apply (-f FILENAME) [-R] [--dry-run=client|server]",
        "  # Apply the YAML of a cell\n  %%kube apply\n\n"
        "  # Apply every manifest of a folder, recursively\n  kubectl apply -f manifests/ -R",
    ),
    "patch": _VerbHelp(
        "Advanced Commands",
        "Update fields of a resource",
        "patch (TYPE NAME | TYPE/NAME) -p PATCH [--type=strategic|merge|json]",
        '  # Partially update a node\n  kubectl patch node n1 -p \'{"spec":{"unschedulable":true}}\'',
    ),
    "replace": _VerbHelp(
        "Advanced Commands", "Replace a resource by file name or stdin", "replace -f FILENAME"
    ),
    "label": _VerbHelp(
        "Settings Commands",
        "Update the labels on a resource",
        "label [--overwrite] (TYPE NAME | TYPE/NAME) KEY_1=VAL_1 ... KEY_N=VAL_N",
        "  # Label a pod, then remove the label\n  kubectl label pod web-7d4b9c tier=front\n"
        "  kubectl label pod web-7d4b9c tier-",
    ),
    "annotate": _VerbHelp(
        "Settings Commands",
        "Update the annotations on a resource",
        "annotate [--overwrite] (TYPE NAME | TYPE/NAME) KEY_1=VAL_1 ... KEY_N=VAL_N",
    ),
    "api-resources": _VerbHelp(
        "Other Commands",
        "Print the supported API resources on the server",
        "api-resources [-o wide|name] [--namespaced=true|false] [--api-group=GROUP]",
    ),
    "config": _VerbHelp(
        "Other Commands",
        "Modify kubeconfig files",
        "config (view|get-contexts|get-clusters|current-context|use-context NAME|"
        "set-context [NAME | --current] --namespace=NS)",
        "  # Use another namespace for every command of the current context\n"
        "  kubectl config set-context --current --namespace=demo",
    ),
}

VERBS = tuple(_HELP)


def _general_help() -> str:
    lines = [
        "kubectl controls the nbcluster cluster manager: the same verbs, flags and columns as the real",
        "kubectl, answered by the cluster running inside this kernel. Tables come back as pandas",
        "DataFrames (df = %kube get pods).",
        "",
    ]
    for group in _GROUPS:
        verbs = [verb for verb, helptext in _HELP.items() if helptext.group == group]
        if not verbs:
            continue
        lines.append(f"{group}:")
        lines += [f"  {verb:<15} {_HELP[verb].short}" for verb in verbs]
        lines.append("")
    lines += [
        "Usage:",
        '  %kube VERB [args] [flags]        (or Cluster.kubectl("VERB ..."))',
        "  %%kube apply|create|replace|delete [-n NAMESPACE] [--dry-run=client|server] [--vars]",
        "",
        'Use "%kube <command> --help" for more information about a given command.',
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------------ argument parsing


class _Parser(argparse.ArgumentParser):
    def __init__(self, verb: str, *, namespace: bool = True) -> None:
        helptext = _HELP.get(verb.split(" ")[0])
        super().__init__(
            prog=f"kubectl {verb}",
            add_help=True,
            exit_on_error=False,
            allow_abbrev=False,
            usage=f"kubectl {helptext.usage}" if helptext else None,
        )
        self.verb = verb
        self.helptext = helptext
        if namespace:
            self.add_argument(
                "-n", "--namespace", help="If present, the namespace scope for this CLI request."
            )

    def error(self, message: str) -> NoReturn:
        message = re.sub(r"^unrecognized arguments: ", "unknown arguments: ", message)
        raise UsageError(f"error: {message}\nSee '{self.prog} --help' for usage.")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise UsageError(message or "error: invalid command line")

    def print_help(self, file: Any = None) -> None:
        raise _Help(self.format_help())

    def format_help(self) -> str:
        lines = []
        if self.helptext:
            lines += [self.helptext.short + ".", ""]
            if self.helptext.examples:
                lines += ["Examples:", self.helptext.examples, ""]
        options = []
        for action in self._actions:
            if (
                not action.option_strings
                or action.help == argparse.SUPPRESS
                or "--help" in action.option_strings
            ):
                continue
            names = ", ".join(action.option_strings)
            if action.nargs == 0:
                default = "false"
            elif action.default in (None, [], argparse.SUPPRESS):
                default = "''" if action.nargs != "*" else "[]"
            else:
                default = str(action.default)
            options.append(f"    {names}={default}:")
            if action.help:
                options.append(f"\t{action.help}")
            options.append("")
        if options:
            lines += ["Options:", *options]
        usage = self.helptext.usage if self.helptext else self.verb
        lines += ["Usage:", f"  kubectl {usage} [options]"]
        return "\n".join(lines)


def _is_number(text: str) -> bool:
    return bool(re.fullmatch(r"-\d+(\.\d+)?", text))


def _check_flags(parser: _Parser, argv: list[str]) -> None:
    long_flags = [o for action in parser._actions for o in action.option_strings if o.startswith("--")]
    short_flags = {
        o
        for action in parser._actions
        for o in action.option_strings
        if len(o) == 2 and o[0] == "-" and o[1] != "-"
    }
    for arg in argv:
        if arg == "--":
            break
        if arg.startswith("--"):
            flag = arg.split("=", 1)[0]
            if flag not in long_flags:
                close = difflib.get_close_matches(flag, long_flags, n=1, cutoff=0.6)
                hint = f"\nDid you mean {close[0]}?" if close else ""
                raise UsageError(f"error: unknown flag: {flag}{hint}\nSee '{parser.prog} --help' for usage.")
        elif arg.startswith("-") and len(arg) > 1 and not _is_number(arg) and arg[:2] not in short_flags:
            raise UsageError(
                f"error: unknown shorthand flag: '{arg[1]}' in {arg}\nSee '{parser.prog} --help' for usage."
            )


# ------------------------------------------------------------------------ kubectl


class Kubectl:
    """kubectl for one :class:`~nbcluster.cluster.Cluster` (and the kernel's contexts)."""

    def __init__(self, cluster: Cluster | None, registry: contexts.Registry | None = None) -> None:
        self._cluster_obj = cluster
        self._registry = registry
        self._out: Printer | None = None
        self._err: Printer | None = None
        self._stdin: str | None = None
        self._stdin_name = "STDIN"
        self._verbs: dict[str, Callable[[list[str]], Any]] = {
            "get": self.get,
            "describe": self.describe,
            "apply": self.apply,
            "create": self.create,
            "replace": self.replace,
            "delete": self.delete,
            "run": self.run_pod,
            "patch": self.patch,
            "scale": self.scale,
            "rollout": self.rollout,
            "set": self.set,
            "label": self.label,
            "annotate": self.annotate,
            "cordon": self.cordon,
            "uncordon": self.uncordon,
            "drain": self.drain,
            "logs": self.logs,
            "exec": self.exec,
            "top": self.top,
            "port-forward": self.port_forward,
            "service": self.service,
            "events": self.events,
            "explain": self.explain,
            "api-resources": self.api_resources,
            "config": self.config,
            "cluster": self.cluster_verb,
        }

    # -- wiring --------------------------------------------------------------

    @property
    def cluster(self) -> Cluster:
        if self._cluster_obj is None:
            return self.registry.current()
        return self._cluster_obj

    @property
    def api(self) -> Any:
        return self.cluster.api

    @property
    def registry(self) -> contexts.Registry:
        return self._registry if self._registry is not None else contexts.default_registry()

    def _now(self) -> Any:
        return self.cluster.clock.now()

    def _emit(self, line: str) -> bool:
        """Print a line as it happens (when the caller gave ``out``); False when nobody listens."""
        if self._out is None:
            return False
        self._out(line)
        return True

    def _notice(self, line: str) -> None:
        """kubectl's informational stderr lines (``Defaulted container …``)."""
        if self._err is not None:
            self._err(line)

    # -- entry ---------------------------------------------------------------

    def run(
        self,
        line: str,
        *,
        stdin: str | None = None,
        out: Printer | None = None,
        err: Printer | None = None,
        stdin_name: str = "STDIN",
    ) -> Any:
        """Run one kubectl command line. ``stdin`` feeds ``-f -``; ``out``/``err`` get progress lines."""
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise UsageError(f"error: cannot parse the command line: {exc}") from exc
        if words and words[0] == "kubectl":
            words = words[1:]
        if not words or words[0] in ("-h", "--help", "help"):
            if len(words) > 1 and words[0] == "help":
                words = [words[1], "--help"]
            else:
                return Output(_general_help())
        verb, rest = words[0], words[1:]
        handler = self._verbs.get(verb)
        if handler is None:
            close = difflib.get_close_matches(verb, list(self._verbs), n=1)
            hint = f"\n\nDid you mean this?\n\t{close[0]}" if close else ""
            raise UsageError(f'error: unknown command "{verb}" for "kubectl"{hint}')
        saved = (self._out, self._err, self._stdin, self._stdin_name)
        self._out, self._err, self._stdin, self._stdin_name = out, err, stdin, stdin_name
        try:
            return handler(rest)
        except _Help as shown:
            return Output(shown.text)
        finally:
            self._out, self._err, self._stdin, self._stdin_name = saved

    def help(self) -> str:
        return _general_help()

    def _parse(self, parser: _Parser, args: list[str], *, intermixed: bool = True) -> argparse.Namespace:
        if "-h" in args or "--help" in args:
            raise _Help(parser.format_help())
        _check_flags(parser, args)
        try:
            if intermixed:
                return parser.parse_intermixed_args(args)
            return parser.parse_args(args)
        except argparse.ArgumentError as exc:
            raise UsageError(f"error: {exc}\nSee '{parser.prog} --help' for usage.") from exc

    def _namespace(self, args: argparse.Namespace) -> str:
        return getattr(args, "namespace", None) or self.cluster.namespace

    def _targets(self, words: list[str], verb: str = "get") -> list[tuple[ResourceInfo, str | None]]:
        """``pods``, ``pods a b``, ``pod/a``, ``deploy/x svc/y``, ``pods,svc``, ``all`` -> (resource, name)."""
        if not words:
            raise UsageError(
                f'error: You must specify the type of resource to {verb}. Use "kubectl '
                'api-resources" for a complete list of supported resources.'
            )
        if "/" in words[0]:
            out = []
            for word in words:
                kind, _, name = word.partition("/")
                if not name or "/" in name:
                    raise UsageError(
                        "error: there is no need to specify a resource type as a separate argument "
                        f"when passing arguments in resource/name form (e.g. 'kubectl {verb} "
                        f"resource/<resource_name>' instead of 'kubectl {verb} resource "
                        f"resource/<resource_name>'): {word}"
                    )
                out.append((resources.resolve(kind), name))
            return out
        kinds: list[ResourceInfo] = []
        for kind in (k for k in words[0].split(",") if k):
            if kind == "all":
                kinds += [info for info in resources.RESOURCES if "all" in info.categories]
            else:
                kinds.append(resources.resolve(kind))
        if len(words) == 1:
            return [(info, None) for info in kinds]
        if any("/" in w for w in words[1:]):
            raise UsageError(
                "error: there is no need to specify a resource type as a separate argument when "
                f"passing arguments in resource/name form (e.g. 'kubectl {verb} resource/"
                f"<resource_name>' instead of 'kubectl {verb} resource resource/<resource_name>')"
            )
        if len(kinds) != 1:
            raise UsageError("error: you must specify only one resource type when giving names")
        return [(kinds[0], name) for name in words[1:]]

    def _ns_for(self, info: ResourceInfo, namespace: str | None) -> str | None:
        return namespace if info.namespaced else None

    # -- get -----------------------------------------------------------------

    _OUTPUTS = ("custom-columns", "json", "jsonpath", "jsonpath-as-json", "name", "wide", "yaml")

    def get(self, argv: list[str]) -> Any:
        parser = _Parser("get")
        parser.add_argument("targets", nargs="*")
        parser.add_argument(
            "-A",
            "--all-namespaces",
            action="store_true",
            help="If present, list the requested object(s) across all namespaces.",
        )
        parser.add_argument("-l", "--selector", help="Selector (label query) to filter on, e.g. -l app=web.")
        parser.add_argument(
            "--field-selector",
            help="Selector (field query) to filter on, e.g. --field-selector status.phase=Running.",
        )
        parser.add_argument(
            "-o", "--output", help="Output format. One of: (" + ", ".join(self._OUTPUTS) + ")."
        )
        parser.add_argument(
            "--show-labels", action="store_true", help="When printing, show all labels as the last column."
        )
        parser.add_argument(
            "-L",
            "--label-columns",
            action="append",
            default=[],
            help="Accepts a comma separated list of labels that are going to be presented as columns.",
        )
        parser.add_argument(
            "--sort-by",
            help="If non-empty, sort list types using this field specification "
            "(a JSONPath expression, e.g. '{.metadata.name}').",
        )
        parser.add_argument(
            "--ignore-not-found",
            action="store_true",
            help="If the requested object does not exist the command will return exit code 0.",
        )
        parser.add_argument("--no-headers", action="store_true", help="Accepted for compatibility.")
        args = self._parse(parser, argv)
        output = args.output or ""
        fmt, _, param = output.partition("=")
        if fmt not in ("", *self._OUTPUTS) or (
            fmt in ("jsonpath", "jsonpath-as-json", "custom-columns") and not param
        ):
            if fmt in ("jsonpath", "jsonpath-as-json", "custom-columns") and not param:
                raise UsageError(f"error: {fmt} template format specified but no template given")
            raise UsageError(
                f'error: unable to match a printer suitable for the output format "{output}", '
                f"allowed formats are: {','.join(self._OUTPUTS)}"
            )
        namespace = None if args.all_namespaces else self._namespace(args)
        targets = self._targets(args.targets, "get")
        groups: list[tuple[ResourceInfo, list[Obj]]] = []
        for info, name in targets:
            if name is not None:
                try:
                    obj = self.api.get(
                        info, name, namespace=self._ns_for(info, namespace or self.cluster.namespace)
                    )
                except NotFound:
                    if args.ignore_not_found:
                        continue
                    raise
                if groups and groups[-1][0] == info:
                    groups[-1][1].append(obj)
                else:
                    groups.append((info, [obj]))
            else:
                items = self.api.list(
                    info,
                    namespace=self._ns_for(info, namespace),
                    label_selector=args.selector,
                    field_selector=args.field_selector,
                )["items"]
                groups.append((info, items))
        if args.sort_by:
            groups = [(info, _sort(items, args.sort_by)) for info, items in groups]
        items = [o for _, objs in groups for o in objs]
        single = len(targets) == 1 and targets[0][1] is not None
        if fmt in ("yaml", "json", "jsonpath", "jsonpath-as-json"):
            payload: Any = (
                items[0]
                if single and items
                else {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}
            )
            if fmt == "yaml":
                return Output(dump_yaml(payload))
            if fmt == "json":
                return Output(json.dumps(payload, indent=4, sort_keys=True, ensure_ascii=False))
            path = JSONPath(param)
            if fmt == "jsonpath-as-json":
                return Output(json.dumps([v for values in path.find(payload) for v in values], indent=4))
            return Output(path.execute(payload))
        if fmt == "name":
            return Output(
                "\n".join(
                    f"{info.kubectl_name}/{o['metadata']['name']}" for info, objs in groups for o in objs
                )
            )
        if fmt == "custom-columns":
            return _custom_columns(param, items)
        scope = (
            f" in {namespace} namespace" if namespace and any(info.namespaced for info, _ in targets) else ""
        )
        empty_message = f"No resources found{scope}."
        wide = fmt == "wide"
        label_columns = [key for spec in args.label_columns for key in spec.split(",") if key]
        kinds = {info for info, _ in targets}
        now = self._now()
        if len(kinds) > 1:
            result = TableGroup()
            for info, objs in groups:
                if objs:
                    result[info.group_resource] = table(
                        info,
                        objs,
                        now=now,
                        wide=wide,
                        all_namespaces=args.all_namespaces,
                        show_labels=args.show_labels,
                        label_columns=label_columns,
                        with_kind=True,
                    )
            if not result:
                return Output(empty_message)
            return result
        info = targets[0][0]
        objs = groups[0][1] if groups else []
        if not objs:
            if single:  # --ignore-not-found
                return Output("")
            return empty_table(info, empty_message, wide=wide, all_namespaces=args.all_namespaces)
        return table(
            info,
            objs,
            now=now,
            wide=wide,
            all_namespaces=args.all_namespaces,
            show_labels=args.show_labels,
            label_columns=label_columns,
        )

    # -- describe ------------------------------------------------------------

    def describe(self, argv: list[str]) -> Output:
        parser = _Parser("describe")
        parser.add_argument("targets", nargs="*")
        parser.add_argument("-l", "--selector", help="Selector (label query) to filter on.")
        parser.add_argument(
            "-A",
            "--all-namespaces",
            action="store_true",
            help="If present, list the requested object(s) across all namespaces.",
        )
        parser.add_argument(
            "-f", "--filename", action="append", default=[], help="Files describing the objects."
        )
        parser.add_argument(
            "--show-events", default="true", help="If true, display events related to the object."
        )
        args = self._parse(parser, argv)
        namespace = None if args.all_namespaces else self._namespace(args)
        now = self._now()
        objs: list[Obj] = []
        for filename in args.filename:
            for document in self._documents(filename, recursive=False):
                info = resources.for_kind(
                    str(document.obj.get("apiVersion", "")), str(document.obj.get("kind", ""))
                )
                meta = document.obj.get("metadata") or {}
                objs.append(
                    self.api.get(
                        info,
                        meta.get("name", ""),
                        namespace=self._ns_for(info, meta.get("namespace") or namespace),
                    )
                )
        if not args.filename:
            for info, name in self._targets(args.targets, "describe"):
                ns = self._ns_for(info, namespace)
                if name is not None:
                    try:
                        objs.append(
                            self.api.get(
                                info, name, namespace=ns or self._ns_for(info, self.cluster.namespace)
                            )
                        )
                    except NotFound:
                        # kubectl describe falls back to objects whose name starts with NAME
                        found = [
                            o
                            for o in self.api.list(info, namespace=ns)["items"]
                            if o["metadata"]["name"].startswith(name)
                        ]
                        if not found:
                            raise
                        objs += found
                else:
                    objs += self.api.list(info, namespace=ns, label_selector=args.selector)["items"]
        if not objs:
            return Output(
                f"No resources found in {namespace} namespace." if namespace else "No resources found"
            )
        show_events = str(args.show_events).lower() != "false"
        return Output("\n\n".join(describe(self.api, obj, now=now, show_events=show_events) for obj in objs))

    # -- manifests -----------------------------------------------------------

    def _documents(self, filename: str, *, recursive: bool) -> list[Any]:
        if filename == "-":
            if self._stdin is None:
                raise UsageError("error: no input: -f - reads the cell (use %%kube VERB)")
            return load_documents(self._stdin, source=self._stdin_name)
        return apply_verbs.documents_from(apply_verbs.Path(filename).expanduser(), recursive=recursive)

    def _manifest_parser(self, verb: str) -> _Parser:
        parser = _Parser(verb)
        parser.add_argument(
            "-f",
            "--filename",
            action="append",
            default=[],
            help="The files (or folders) that contain the configuration; - reads the cell.",
        )
        parser.add_argument(
            "-R",
            "--recursive",
            action="store_true",
            help="Process the directory used in -f, --filename recursively.",
        )
        parser.add_argument(
            "--dry-run",
            nargs="?",
            const="client",
            default=None,
            help='Must be "none", "server", or "client".',
        )
        parser.add_argument("--validate", default="strict", help="strict, warn, ignore (or true/false).")
        return parser

    def apply(self, argv: list[str]) -> Output:
        args = self._parse(self._manifest_parser("apply"), argv)
        return self._each_file(args, apply_verbs.apply, "apply")

    def replace(self, argv: list[str]) -> Output:
        args = self._parse(self._manifest_parser("replace"), argv)
        return self._each_file(args, apply_verbs.replace, "replace")

    def _each_file(self, args: argparse.Namespace, verb: Callable[..., list[str]], name: str) -> Output:
        """Run ``verb`` on every object of every ``-f``, in order; failures are reported together.

        Like kubectl, an explicit ``-n`` applies to every object (and must match the namespace an
        object names); without it, an object keeps its own namespace and the others go to the
        context's namespace.
        """
        if not args.filename:
            raise UsageError("error: must specify one of -f and -k")
        if args.dry_run not in (None, "none", "client", "server"):
            raise UsageError(
                f'error: Invalid dry-run value ({args.dry_run}). Must be "none", "server", or "client".'
            )
        validate = str(args.validate).lower() not in ("false", "ignore", "warn")
        lines: list[str] = []
        failures: list[tuple[int, str, NbClusterError]] = []
        for filename in args.filename:
            documents = self._documents(filename, recursive=args.recursive)
            if not documents:
                raise UsageError(f"error: no objects passed to {name}")
            for document in documents:
                meta = document.obj.get("metadata") if isinstance(document.obj.get("metadata"), dict) else {}
                namespace = args.namespace or meta.get("namespace") or self.cluster.namespace
                try:
                    lines += verb(
                        self.api,
                        document.obj,
                        namespace=namespace,
                        dry_run=args.dry_run,
                        validate=validate,
                        source_name=document.source,
                    )
                except ApplyFailed as failed:
                    failures += [(document.index, _what(document), err) for _, _, err in failed.failures]
                except NbClusterError as err:
                    failures.append((document.index, _what(document), err))
        if failures:
            raise ApplyFailed(lines, failures)
        return Output("\n".join(lines))

    def create(self, argv: list[str]) -> Output:
        if argv and not argv[0].startswith("-") and argv[0] in _CREATE_SUBCOMMANDS:
            return self._create_sub(argv[0], argv[1:])
        parser = self._manifest_parser("create")
        args = self._parse(parser, argv)
        if not args.filename and argv and not argv[0].startswith("-"):
            close = difflib.get_close_matches(argv[0], list(_CREATE_SUBCOMMANDS), n=1)
            hint = f"\n\nDid you mean this?\n\t{close[0]}" if close else ""
            raise UsageError(f'error: unknown command "{argv[0]}" for "kubectl create"{hint}')
        return self._each_file(args, apply_verbs.create, "create")

    def _create_sub(self, sub: str, argv: list[str]) -> Output:
        kind = _CREATE_SUBCOMMANDS[sub]
        parser = _Parser(f"create {sub}")
        parser.add_argument("name")
        parser.add_argument("--dry-run", nargs="?", const="client", default=None)
        if kind == "Deployment":
            parser.add_argument("--image", action="append", default=[], required=True)
            parser.add_argument("--replicas", type=int, default=1)
            parser.add_argument("--port", type=int)
        if kind in ("ConfigMap", "Secret"):
            parser.add_argument("--from-literal", action="append", default=[])
        args = self._parse(parser, argv)
        namespace = self._namespace(args)
        obj: Obj
        if kind == "Namespace":
            obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": args.name}}
        elif kind == "Deployment":
            labels = {"app": args.name}
            containers = []
            for image in args.image:
                cname = re.sub(r"[^a-z0-9-]", "-", image.split("/")[-1].split(":")[0].split("@")[0].lower())
                container: Obj = {"name": cname, "image": image, "resources": {}}
                if args.port:
                    container["ports"] = [{"containerPort": args.port}]
                containers.append(container)
            obj = {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": args.name, "namespace": namespace, "labels": labels},
                "spec": {
                    "replicas": args.replicas,
                    "selector": {"matchLabels": labels},
                    "template": {"metadata": {"labels": labels}, "spec": {"containers": containers}},
                },
            }
        else:
            data = {}
            for literal in args.from_literal:
                key, sep, value = literal.partition("=")
                if not sep:
                    raise UsageError(f"error: invalid literal source {literal}, expected key=value")
                data[key] = value
            obj = {"apiVersion": "v1", "kind": kind, "metadata": {"name": args.name, "namespace": namespace}}
            if kind == "Secret":
                import base64

                obj["type"] = "Opaque"
                obj["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
            else:
                obj["data"] = data
        if args.dry_run not in (None, "none", "client", "server"):
            raise UsageError(
                f'error: Invalid dry-run value ({args.dry_run}). Must be "none", "server", or "client".'
            )
        created = self.api.create(obj, namespace=namespace, dry_run=args.dry_run in ("client", "server"))
        info = resources.for_kind(created["apiVersion"], created["kind"])
        suffix = {"client": " (dry run)", "server": " (server dry run)"}.get(args.dry_run or "", "")
        return Output(f"{info.kubectl_name}/{args.name} created{suffix}")

    def run_pod(self, argv: list[str]) -> Output:
        command: list[str] = []
        if "--" in argv:
            cut = argv.index("--")
            argv, command = argv[:cut], argv[cut + 1 :]
        parser = _Parser("run")
        parser.add_argument("name")
        parser.add_argument("args", nargs="*")
        parser.add_argument("--image", required=True, help="The image for the container to run.")
        parser.add_argument("--port", type=int, help="The port that this container exposes.")
        parser.add_argument("-l", "--labels", help="Comma separated labels to apply to the pod.")
        parser.add_argument(
            "--annotations", action="append", default=[], help="Annotations to apply to the pod (KEY=VALUE)."
        )
        parser.add_argument(
            "--restart", default="Always", help="The restart policy: Always, OnFailure or Never."
        )
        parser.add_argument("--env", action="append", default=[], help="Environment variables (NAME=VALUE).")
        parser.add_argument("--command", action="store_true", help="Use the extra arguments as the command.")
        parser.add_argument("--dry-run", nargs="?", const="client", default=None)
        parser.add_argument(
            "-i", "--stdin", action="store_true", help="Attach: print the container's output until it ends."
        )
        parser.add_argument("-t", "--tty", action="store_true", help="Accepted; a notebook has no terminal.")
        parser.add_argument("--attach", action="store_true", help="Wait for the pod and print its output.")
        parser.add_argument(
            "--rm", action="store_true", help="Delete the pod after it exits (only with -i or --attach)."
        )
        parser.add_argument(
            "--pod-running-timeout", default="1m", help="How long to wait for the pod to run (default 1m)."
        )
        args = self._parse(parser, argv)
        attach = args.stdin or args.attach
        if args.rm and not attach:
            raise UsageError("error: --rm should only be used for attached containers")
        extra = [*args.args, *command]
        labels = (
            dict(item.split("=", 1) for item in args.labels.split(",")) if args.labels else {"run": args.name}
        )
        container: Obj = {"name": args.name, "image": args.image, "resources": {}}
        if extra:
            container["command" if args.command else "args"] = extra
        if args.port:
            container["ports"] = [{"containerPort": args.port}]
        if args.env:
            container["env"] = [
                {"name": e.split("=", 1)[0], "value": e.split("=", 1)[1] if "=" in e else ""}
                for e in args.env
            ]
        if args.restart not in ("Always", "OnFailure", "Never"):
            raise UsageError(f"error: invalid restart policy: {args.restart}")
        pod: Obj = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": args.name, "namespace": self._namespace(args), "labels": labels},
            "spec": {"containers": [container], "restartPolicy": args.restart},
        }
        if args.annotations:
            pod["metadata"]["annotations"] = {
                item.split("=", 1)[0]: item.split("=", 1)[1] if "=" in item else ""
                for item in args.annotations
            }
        dry = args.dry_run in ("client", "server")
        self.api.create(pod, namespace=self._namespace(args), dry_run=dry)
        suffix = {"client": " (dry run)", "server": " (server dry run)"}.get(args.dry_run or "", "")
        if not attach or dry:
            return Output(f"pod/{args.name} created{suffix}")
        return self._run_attached(args.name, self._namespace(args), args.rm, args.pod_running_timeout)

    def _run_attached(self, name: str, namespace: str, remove: bool, timeout: str) -> Output:
        """``run -i`` / ``--attach`` in a notebook: wait for the container, print its output as
        it comes until it ends, then (``--rm``) delete the pod; a failure is kubectl's error."""
        deadline = time.monotonic() + (_seconds(timeout) or 60.0)
        with self.api.watch("pods", namespace=namespace) as watch:
            while True:
                pod = self.api.cached("pods", name, namespace)
                if pod is None:
                    raise NotFound(f'pods "{name}" not found')
                states = [
                    s.get("state") or {} for s in (pod.get("status") or {}).get("containerStatuses") or []
                ]
                if any("running" in st or "terminated" in st for st in states):
                    break
                if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                    break
                if time.monotonic() > deadline:
                    raise Timeout(f"timed out waiting for the condition on pods/{name}")
                watch.get(timeout=0.2)
        output = self._follow([(pod, name)], namespace, -1, False)
        lines = [str(output)] if output else []
        pod = self.api.get("pods", name, namespace=namespace)
        terminated = next(
            (
                (s.get("state") or {}).get("terminated")
                for s in (pod.get("status") or {}).get("containerStatuses") or []
                if (s.get("state") or {}).get("terminated")
            ),
            None,
        )
        if remove:
            self.api.delete("pods", name, namespace=namespace)
            line = f'pod "{name}" deleted'
            if not self._emit(line):
                lines.append(line)
        if terminated and terminated.get("exitCode"):
            text = "\n".join(lines)
            raise NbClusterError(
                (text + "\n" if text else "")
                + f"pod {namespace}/{name} terminated ({terminated.get('reason') or 'Error'})"
            )
        return Output("\n".join(lines))

    def delete(self, argv: list[str]) -> Output:
        parser = _Parser("delete")
        parser.add_argument("targets", nargs="*")
        parser.add_argument(
            "-f",
            "--filename",
            action="append",
            default=[],
            help="The files that contain the objects to delete; - reads the cell.",
        )
        parser.add_argument(
            "-R",
            "--recursive",
            action="store_true",
            help="Process the directory used in -f, --filename recursively.",
        )
        parser.add_argument("-l", "--selector", help="Selector (label query) to filter on.")
        parser.add_argument("--all", action="store_true", help="Delete all resources of the given types.")
        parser.add_argument(
            "-A",
            "--all-namespaces",
            action="store_true",
            help="If present, delete the requested object(s) across all namespaces.",
        )
        parser.add_argument(
            "--ignore-not-found",
            action="store_true",
            help='Treat "resource not found" as a successful delete.',
        )
        parser.add_argument(
            "--cascade", default="background", help='Must be "background", "orphan", or "foreground".'
        )
        parser.add_argument(
            "--grace-period",
            type=int,
            default=-1,
            help="Period of time in seconds given to the resource to terminate gracefully.",
        )
        parser.add_argument("--force", action="store_true", help="Immediately remove resources from the API.")
        parser.add_argument("--now", action="store_true", help="Signal resources for immediate shutdown.")
        parser.add_argument("--wait", default="true", help="If true, wait for resources to be gone.")
        parser.add_argument("--timeout", default="0s", help="How long to wait (0: a week).")
        parser.add_argument("--dry-run", nargs="?", const="client", default=None)
        args = self._parse(parser, argv)
        cascade = {"true": "background", "false": "orphan"}.get(args.cascade, args.cascade)
        policy = {"background": "Background", "foreground": "Foreground", "orphan": "Orphan"}.get(cascade)
        if policy is None:
            raise UsageError(
                f'error: invalid cascade value ({args.cascade}). Must be "background", '
                '"foreground", or "orphan".'
            )
        if args.dry_run not in (None, "none", "client", "server"):
            raise UsageError(
                f'error: Invalid dry-run value ({args.dry_run}). Must be "none", "server", or "client".'
            )
        grace: int | None = None if args.grace_period < 0 else args.grace_period
        if args.now:
            grace = 1
        if args.force and args.grace_period < 0:
            grace = 0
        namespace = self._namespace(args)
        dry = args.dry_run in ("client", "server")
        operation = "force deleted" if grace == 0 else "deleted"
        operation += {"client": " (dry run)", "server": " (server dry run)"}.get(args.dry_run or "", "")
        pairs: list[tuple[ResourceInfo, str, str | None]] = []
        lines: list[str] = []
        if grace == 0 and not dry:
            self._notice(
                "Warning: Immediate deletion does not wait for confirmation that the running resource has "
                "been terminated. The resource may continue to run on the cluster indefinitely."
            )
        for filename in args.filename:
            if filename == "-" and not load_documents(self._stdin or "", source=self._stdin_name):
                raise UsageError("error: no objects passed to delete")
            for document in self._documents(filename, recursive=args.recursive):
                info = resources.for_kind(
                    str(document.obj.get("apiVersion", "")), str(document.obj.get("kind", ""))
                )
                meta = document.obj.get("metadata") or {}
                ns = meta.get("namespace") or namespace
                if (
                    info.namespaced
                    and args.namespace
                    and meta.get("namespace")
                    and meta["namespace"] != args.namespace
                ):
                    raise BadRequest(
                        f'the namespace from the provided object "{meta["namespace"]}" does not match '
                        f'the namespace "{args.namespace}". You must pass \'--namespace='
                        f"{meta['namespace']}' to perform this operation."
                    )
                pairs.append((info, str(meta.get("name", "")), self._ns_for(info, ns)))
        if args.targets:
            for info, name in self._targets(args.targets, "delete"):
                ns = self._ns_for(info, namespace)
                if name is not None:
                    pairs.append((info, name, ns))
                    continue
                if not (args.all or args.selector):
                    raise UsageError("error: resource(s) were provided, but no name was specified")
                listed = self.api.list(
                    info, namespace=None if args.all_namespaces else ns, label_selector=args.selector
                )["items"]
                if not listed:
                    lines.append(
                        f"No resources found in {ns} namespace."
                        if ns and not args.all_namespaces
                        else "No resources found"
                    )
                pairs += [(info, o["metadata"]["name"], o["metadata"].get("namespace")) for o in listed]
        elif not args.filename:
            raise UsageError(
                "error: You must provide one or more resources by argument or filename.\n"
                "Example resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n"
                "   '<resource> <name>'\n   '<resource>'"
            )
        deleted: list[tuple[ResourceInfo, str, str | None]] = []
        for info, name, ns in pairs:
            try:
                self.api.delete(
                    info,
                    name,
                    namespace=ns,
                    propagation_policy=policy,
                    grace_period_seconds=grace,
                    dry_run=dry,
                )
            except NotFound:
                if args.ignore_not_found:
                    continue
                raise
            line = f'{info.kubectl_name} "{name}" {operation}'
            if not self._emit(line):
                lines.append(line)
            deleted.append((info, name, ns))
        if str(args.wait).lower() != "false" and not dry:
            timeout = _seconds(args.timeout) or 7 * 24 * 3600.0
            for info, name, ns in deleted:
                self._wait_gone(info, name, ns, timeout)
        return Output("\n".join(lines))

    def _wait_gone(self, info: ResourceInfo, name: str, namespace: str | None, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self.api.watch(info, namespace=namespace) as watch:
            while self.api.cached(info, name, namespace) is not None:
                if time.monotonic() > deadline:
                    raise Timeout(f"timed out waiting for the condition on {info.plural}/{name}")
                watch.get(timeout=0.2)

    def patch(self, argv: list[str]) -> Output:
        parser = _Parser("patch")
        parser.add_argument("targets", nargs="+")
        parser.add_argument(
            "-p", "--patch", required=True, help="The patch to be applied to the resource JSON file."
        )
        parser.add_argument(
            "--type", default="strategic", help="The type of patch: json, merge or strategic."
        )
        parser.add_argument("--subresource", help="status or scale.")
        parser.add_argument("--dry-run", nargs="?", const="client", default=None)
        args = self._parse(parser, argv)
        if args.type not in ("json", "merge", "strategic"):
            raise UsageError(f'error: --type must be one of [json merge strategic], not "{args.type}"')
        try:
            body = json.loads(args.patch)
        except json.JSONDecodeError:
            docs = load_documents(args.patch, source="--patch") if ":" in args.patch else []
            if not docs and not args.patch.strip().startswith("["):
                raise UsageError(f'error: unable to parse "{args.patch}": not a JSON or YAML patch') from None
            import yaml

            body = yaml.safe_load(args.patch)
        lines = []
        namespace = self._namespace(args)
        for info, name in self._targets(args.targets, "patch"):
            if name is None:
                raise UsageError("error: resource(s) were provided, but no name was specified")
            ns = self._ns_for(info, namespace)
            before = self.api.get(info, name, namespace=ns)
            after = self.api.patch(
                info,
                name,
                body,
                namespace=ns,
                patch_type=args.type,
                dry_run=args.dry_run in ("client", "server"),
            )
            changed = before["metadata"].get("resourceVersion") != after["metadata"].get("resourceVersion")
            lines.append(f"{info.kubectl_name}/{name} {'patched' if changed else 'patched (no change)'}")
        return Output("\n".join(lines))

    # -- scale and rollout ---------------------------------------------------

    def scale(self, argv: list[str]) -> Output:
        parser = _Parser("scale")
        parser.add_argument("targets", nargs="+")
        parser.add_argument("--replicas", type=int, required=True, help="The new desired number of replicas.")
        parser.add_argument("--current-replicas", type=int, help="Precondition for current size.")
        parser.add_argument("--resource-version", help="Precondition for resource version.")
        args = self._parse(parser, argv)
        if args.replicas < 0:
            raise UsageError(
                "error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0"
            )
        lines = []
        namespace = self._namespace(args)
        for info, name in self._targets(args.targets, "scale"):
            if name is None:
                raise UsageError("error: resource(s) were provided, but no name was specified")
            if args.current_replicas is not None:
                current = self.api.get_scale(info, name, namespace=namespace)["spec"].get("replicas", 0)
                if current != args.current_replicas:
                    raise UsageError(f"error: Expected replicas to be {args.current_replicas}, was {current}")
            self.api.scale(
                info, name, args.replicas, namespace=namespace, resource_version=args.resource_version
            )
            lines.append(f"{info.kubectl_name}/{name} scaled")
        return Output("\n".join(lines))

    _ROLLOUT = ("history", "pause", "restart", "resume", "status", "undo")

    def rollout(self, argv: list[str]) -> Output | None:
        if not argv or argv[0] in ("-h", "--help"):
            raise _Help(
                _Parser("rollout").format_help()
                + "\n\nAvailable Commands:\n"
                + "\n".join(f"  {sub}" for sub in self._ROLLOUT)
            )
        sub, rest = argv[0], argv[1:]
        if sub not in self._ROLLOUT:
            close = difflib.get_close_matches(sub, list(self._ROLLOUT), n=1)
            hint = f"\n\nDid you mean this?\n\t{close[0]}" if close else ""
            raise UsageError(f'error: unknown command "{sub}" for "kubectl rollout"{hint}')
        parser = _Parser(f"rollout {sub}")
        parser.add_argument("targets", nargs="+")
        if sub == "undo":
            parser.add_argument(
                "--to-revision", type=int, default=0, help="The revision to roll back to (0: the previous)."
            )
        elif sub == "history":
            parser.add_argument("--revision", type=int, default=0, help="See the details of this revision.")
        elif sub == "status":
            parser.add_argument("--timeout", default="0s", help="How long to wait (0: forever).")
            parser.add_argument(
                "-w", "--watch", default="true", help="Watch the status until the rollout finishes."
            )
            parser.add_argument("--revision", type=int, default=0, help="Pin to a specific revision.")
        args = self._parse(parser, rest)
        namespace = self._namespace(args)
        lines: list[str] = []
        for info, name in self._targets(args.targets, f"rollout {sub}"):
            if name is None:
                raise UsageError("error: rollout needs TYPE/NAME, e.g. deployment/web")
            if info.kind not in ("Deployment", "StatefulSet", "DaemonSet"):
                raise UsageError(
                    f"error: no rollout for {info.kubectl_name}/{name}: only deployments, statefulsets "
                    "and daemonsets roll out"
                )
            label = f"{info.kubectl_name}/{name}"
            obj = self.api.get(info, name, namespace=namespace)
            if sub == "restart":
                if obj["spec"].get("paused"):
                    raise UsageError(
                        f'error: {info.group_resource} "{name}" can\'t restart paused deployment '
                        "(run rollout resume first)"
                    )
                self.api.patch(
                    info,
                    name,
                    {
                        "spec": {
                            "template": {
                                "metadata": {
                                    "annotations": {
                                        "kubectl.kubernetes.io/restartedAt": format_time(self._now())
                                    }
                                }
                            }
                        }
                    },
                    namespace=namespace,
                    patch_type="strategic",
                )
                lines.append(f"{label} restarted")
            elif sub in ("pause", "resume"):
                if info.kind != "Deployment":
                    raise UsageError(
                        f"error: {label} {'pausing' if sub == 'pause' else 'resuming'} is not supported"
                    )
                wanted = sub == "pause"
                if bool(obj["spec"].get("paused")) == wanted:
                    state = "already paused" if wanted else "not paused"
                    raise UsageError(f'error: {info.group_resource} "{name}" is {state}')
                else:
                    self.api.patch(
                        info, name, {"spec": {"paused": wanted}}, namespace=namespace, patch_type="merge"
                    )
                    lines.append(f"{label} {'paused' if wanted else 'resumed'}")
            elif sub == "history":
                lines.append(self._history(info, obj, args.revision))
            elif sub == "undo":
                lines.append(self._undo(info, obj, args.to_revision, namespace))
            else:
                lines += self._rollout_status(
                    info, name, namespace, _seconds(args.timeout), str(args.watch).lower() != "false"
                )
        if not lines:
            return None
        return Output("\n".join(lines))

    def _history(self, info: ResourceInfo, obj: Obj, revision: int) -> str:
        if info.kind != "Deployment":
            raise UsageError("error: rollout history is supported for deployments only in this version")
        from nbcluster.control.controllers.deployment import revision_history

        history = revision_history(self.api, obj)
        label = f"{info.kubectl_name}/{obj['metadata']['name']}"
        if revision:
            for number, rs, _cause in history:
                if number == revision:
                    return f"{label} with revision #{revision}\n" + _describe_template(rs["spec"]["template"])
            raise UsageError(f"error: unable to find the specified revision {revision}")
        rows = ["REVISION  CHANGE-CAUSE"] + [
            f"{number:<9} {cause or '<none>'}" for number, _rs, cause in history
        ]
        return f"{label} \n" + "\n".join(rows)

    def _undo(self, info: ResourceInfo, obj: Obj, to_revision: int, namespace: str) -> str:
        label = f"{info.kubectl_name}/{obj['metadata']['name']}"
        if info.kind != "Deployment":
            raise UsageError(f"error: {label}: undo is supported for deployments only in this version")
        from nbcluster.control.controllers.deployment import rollback_template

        template = rollback_template(self.api, obj, to_revision or None)
        if template == obj["spec"]["template"]:
            return (
                f"{label} skipped rollback (current template already matches revision {to_revision})"
                if to_revision
                else f"{label} skipped rollback (current template already matches the previous revision)"
            )
        self.api.patch(
            info,
            obj["metadata"]["name"],
            [{"op": "replace", "path": "/spec/template", "value": template}],
            namespace=namespace,
            patch_type="json",
        )
        return f"{label} rolled back"

    def _rollout_status(
        self, info: ResourceInfo, name: str, namespace: str, timeout: float, watch: bool
    ) -> list[str]:
        deadline = time.monotonic() + (timeout or 7 * 24 * 3600.0)
        seen: list[str] = []
        kept: list[str] = []
        with self.api.watch(info, namespace=namespace) as stream:
            while True:
                obj = self.api.cached(info, name, namespace)
                if obj is None:
                    raise NotFound(f'{info.group_resource} "{name}" not found')
                message, done = rollout_status_message(info.kind, obj)
                if not seen or seen[-1] != message:
                    seen.append(message)
                    if not self._emit(message):
                        kept.append(message)
                if done or not watch:
                    return kept
                if time.monotonic() > deadline:
                    raise Timeout("\n".join([*kept, "error: timed out waiting for the condition"]))
                stream.get(timeout=0.5)

    # -- set, label, annotate ------------------------------------------------

    def set(self, argv: list[str]) -> Output:
        if not argv or argv[0] in ("-h", "--help"):
            raise _Help(_Parser("set").format_help() + "\n\nAvailable Commands:\n  image")
        if argv[0] != "image":
            raise UsageError(
                f'error: unknown command "{argv[0]}" for "kubectl set" (this version has: set image)'
            )
        parser = _Parser("set image")
        parser.add_argument("items", nargs="+")
        parser.add_argument("--all", action="store_true")
        parser.add_argument("-l", "--selector")
        args = self._parse(parser, argv[1:])
        target_words = [w for w in args.items if "=" not in w]
        assignments = dict(w.split("=", 1) for w in args.items if "=" in w)
        if not assignments:
            raise UsageError("error: at least one image update is required")
        namespace = self._namespace(args)
        lines = []
        for info, name in self._targets(target_words, "set image"):
            names = (
                [name]
                if name
                else [
                    o["metadata"]["name"]
                    for o in self.api.list(info, namespace=namespace, label_selector=args.selector)["items"]
                ]
            )
            for each in names:
                obj = self.api.get(info, each, namespace=namespace)
                spec = _pod_spec_of(obj)
                known = [c["name"] for c in spec.get("initContainers", []) + spec.get("containers", [])]
                patch_spec: Obj = {}
                for container, image in assignments.items():
                    chosen = known if container == "*" else [container]
                    for cname in chosen:
                        if cname not in known:
                            raise UsageError(f'error: unable to find container named "{cname}"')
                        key = (
                            "initContainers"
                            if any(c["name"] == cname for c in spec.get("initContainers", []))
                            else "containers"
                        )
                        patch_spec.setdefault(key, []).append({"name": cname, "image": image})
                patch: Obj = patch_spec
                for key in reversed(_template_patch_path(info.kind)):
                    patch = {key: patch}
                self.api.patch(info, each, patch, namespace=namespace, patch_type="strategic")
                lines.append(f"{info.kubectl_name}/{each} image updated")
        return Output("\n".join(lines))

    def label(self, argv: list[str]) -> Output:
        return self._meta_map(argv, "labels", "labeled")

    def annotate(self, argv: list[str]) -> Output:
        return self._meta_map(argv, "annotations", "annotated")

    def _meta_map(self, argv: list[str], field: str, verb_done: str) -> Output:
        verb = "label" if field == "labels" else "annotate"
        parser = _Parser(verb)
        parser.add_argument("items", nargs="+")
        parser.add_argument(
            "--overwrite",
            action="store_true",
            help="If true, allow the values to be overwritten, otherwise reject updates that "
            "overwrite existing ones.",
        )
        parser.add_argument("-l", "--selector", help="Selector (label query) to filter on.")
        parser.add_argument("--all", action="store_true", help="Select all resources of the given types.")
        parser.add_argument("--list", action="store_true", help="Print the current values.")
        args = self._parse(parser, argv)
        changes = [w for w in args.items if "=" in w or (w.endswith("-") and not w.startswith("-"))]
        words = [w for w in args.items if w not in changes]
        # "TYPE NAME key-" : a trailing "-" word is a removal only after the target words
        if not changes and not args.list:
            raise UsageError(f"error: at least one {field[:-1]} update is required")
        namespace = self._namespace(args)
        pairs: list[tuple[ResourceInfo, str]] = []
        for info, name in self._targets(words, verb):
            if name is None:
                if not (args.all or args.selector):
                    raise UsageError("error: resource(s) were provided, but no name was specified")
                pairs += [
                    (info, o["metadata"]["name"])
                    for o in self.api.list(
                        info, namespace=self._ns_for(info, namespace), label_selector=args.selector
                    )["items"]
                ]
            else:
                pairs.append((info, name))
        lines = []
        for info, name in pairs:
            ns = self._ns_for(info, namespace)
            obj = self.api.get(info, name, namespace=ns)
            current = obj["metadata"].get(field) or {}
            if args.list:
                lines += [f"{k}={v}" for k, v in current.items()]
                continue
            patch: dict[str, str | None] = {}
            for change in changes:
                if change.endswith("-") and "=" not in change:
                    patch[change[:-1]] = None
                    continue
                key, _, value = change.partition("=")
                if key in current and current[key] != value and not args.overwrite:
                    raise UsageError(
                        f"error: '{key}' already has a value ({current[key]}), and --overwrite is false"
                    )
                patch[key] = value
            unchanged = all(current.get(k) == v for k, v in patch.items())
            if not unchanged:
                self.api.patch(info, name, {"metadata": {field: patch}}, namespace=ns, patch_type="merge")
            lines.append(f"{info.kubectl_name}/{name} {'not ' + verb_done if unchanged else verb_done}")
        return Output("\n".join(lines))

    # -- nodes ---------------------------------------------------------------

    def cordon(self, argv: list[str]) -> Output:
        return self._set_unschedulable(argv, True, "cordon")

    def uncordon(self, argv: list[str]) -> Output:
        return self._set_unschedulable(argv, False, "uncordon")

    def _set_unschedulable(self, argv: list[str], value: bool, verb: str) -> Output:
        parser = _Parser(verb, namespace=False)
        parser.add_argument("nodes", nargs="*")
        parser.add_argument("-l", "--selector", help="Selector (label query) to filter on.")
        args = self._parse(parser, argv)
        names = [n.split("/", 1)[1] if n.startswith(("node/", "nodes/", "no/")) else n for n in args.nodes]
        if args.selector:
            names += [
                o["metadata"]["name"] for o in self.api.list("nodes", label_selector=args.selector)["items"]
            ]
        if not names:
            raise UsageError(
                f"error: USAGE: {verb} NODE [flags]\nSee 'kubectl {verb} -h' for help and examples"
            )
        lines = []
        done = "cordoned" if value else "uncordoned"
        for name in names:
            node = self.api.get("nodes", name)
            if bool(node.get("spec", {}).get("unschedulable")) == value:
                lines.append(f"node/{name} already {done}")
                continue
            self.api.patch(
                "nodes", name, {"spec": {"unschedulable": True if value else None}}, patch_type="merge"
            )
            lines.append(f"node/{name} {done}")
        return Output("\n".join(lines))

    def drain(self, argv: list[str]) -> Output:
        parser = _Parser("drain", namespace=False)
        parser.add_argument("nodes", nargs="+")
        parser.add_argument("--ignore-daemonsets", action="store_true", help="Ignore DaemonSet-managed pods.")
        parser.add_argument(
            "--delete-emptydir-data",
            action="store_true",
            help="Continue even if there are pods using emptyDir (local data that will be deleted).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Continue even if there are pods that do not declare a controller.",
        )
        parser.add_argument(
            "--grace-period",
            type=int,
            default=-1,
            help="Period of time in seconds given to each pod to terminate gracefully.",
        )
        parser.add_argument("--timeout", default="0s", help="The length of time to wait before giving up.")
        parser.add_argument(
            "--disable-eviction", action="store_true", help="Delete pods instead of evicting them."
        )
        args = self._parse(parser, argv)
        lines: list[str] = []
        for name in args.nodes:
            name = name.split("/", 1)[1] if name.startswith(("node/", "nodes/", "no/")) else name
            lines += str(self._set_unschedulable([name], True, "cordon")).splitlines()
            pods = [p for p in self.api.pods_on_node(name) if not p["metadata"].get("deletionTimestamp")]
            problems: dict[str, list[str]] = {}
            to_evict, ignored = [], []
            for pod in pods:
                ref = f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"
                owners = pod["metadata"].get("ownerReferences") or []
                controller = next((o for o in owners if o.get("controller")), None)
                if pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
                    to_evict.append(pod)
                    continue
                if controller and controller.get("kind") == "DaemonSet":
                    if args.ignore_daemonsets:
                        ignored.append(ref)
                    else:
                        problems.setdefault(
                            "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore)", []
                        ).append(ref)
                    continue
                if controller is None and not args.force:
                    problems.setdefault(
                        "cannot delete Pods that declare no controller (use --force to override)", []
                    ).append(ref)
                    continue
                if (
                    any("emptyDir" in v for v in pod["spec"].get("volumes", []) or [])
                    and not args.delete_emptydir_data
                ):
                    problems.setdefault(
                        "cannot delete Pods with local storage (use --delete-emptydir-data to override)", []
                    ).append(ref)
                    continue
                to_evict.append(pod)
            if problems:
                detail = ", ".join(f"{reason}: {', '.join(refs)}" for reason, refs in problems.items())
                raise UsageError(
                    "\n".join(
                        [
                            *lines,
                            f'error: unable to drain node "{name}" due to error: [{detail}], '
                            "continuing command...",
                            "There are pending nodes to be drained:",
                            f" {name}",
                            *problems,
                        ]
                    )
                )
            if ignored:
                lines.append(f"Warning: ignoring DaemonSet-managed Pods: {', '.join(ignored)}")
            grace = None if args.grace_period < 0 else args.grace_period
            for pod in to_evict:
                lines.append(f"evicting pod {pod['metadata']['namespace']}/{pod['metadata']['name']}")
            for pod in to_evict:
                with contextlib.suppress(NotFound):
                    self.api.delete(
                        "pods",
                        pod["metadata"]["name"],
                        namespace=pod["metadata"]["namespace"],
                        grace_period_seconds=grace,
                    )
                lines.append(f"pod/{pod['metadata']['name']} evicted")
            lines.append(f"node/{name} drained")
        return Output("\n".join(lines))

    # -- pods: logs, exec, port-forward, top -----------------------------------

    def _pod_target(self, word: str, namespace: str) -> Obj:
        """A pod from ``POD`` or ``TYPE/NAME`` (the first ready pod of a workload or service)."""
        if "/" not in word:
            return self.api.get("pods", word, namespace=namespace)
        kind, _, name = word.partition("/")
        info = resources.resolve(kind)
        if info.kind == "Pod":
            return self.api.get("pods", name, namespace=namespace)
        obj = self.api.get(info, name, namespace=self._ns_for(info, namespace))
        if info.kind == "Service":
            selector: Any = (obj.get("spec") or {}).get("selector") or {}
        else:
            selector = (obj.get("spec") or {}).get("selector") or {}
            if "matchLabels" in selector or "matchExpressions" in selector:
                selector = _selector_text(selector)
        if not selector:
            raise UsageError(
                f"error: cannot attach to {info.kubectl_name}: selector for {info.kubectl_name} not "
                "implemented"
            )
        pods = self.api.list("pods", namespace=namespace, label_selector=selector)["items"]
        pods = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        if not pods:
            raise UsageError(
                f"error: timed out waiting for the condition (no pods for {info.kubectl_name}/{name})"
            )
        pods.sort(key=_active_pod_rank)
        if len(pods) > 1:
            self._notice(f"Found {len(pods)} pods, using pod/{pods[0]['metadata']['name']}")
        return pods[0]

    def _container(self, pod: Obj, wanted: str | None) -> str:
        spec = pod.get("spec", {})
        containers = [c["name"] for c in spec.get("containers", [])]
        inits = [c["name"] for c in spec.get("initContainers", [])]
        if wanted:
            if wanted not in containers + inits:
                raise UsageError(f"error: container {wanted} is not valid for pod {pod['metadata']['name']}")
            return wanted
        annotations = pod["metadata"].get("annotations") or {}
        default = annotations.get("kubectl.kubernetes.io/default-container")
        if default in containers:
            return default
        if len(containers) + len(inits) > 1:
            listed = ", ".join([*containers, *(f"{c} (init)" for c in inits)])
            self._notice(f'Defaulted container "{containers[0]}" out of: {listed}')
        return containers[0]

    def _kubelets(self) -> Any:
        plane = self.cluster.plane
        return plane, plane.kubelets

    def logs(self, argv: list[str]) -> Output | None:
        parser = _Parser("logs")
        parser.add_argument("target", nargs="?")
        parser.add_argument("container_arg", nargs="?", help=argparse.SUPPRESS)
        parser.add_argument("-c", "--container", help="Print the logs of this container.")
        parser.add_argument(
            "-p",
            "--previous",
            action="store_true",
            help="If true, print the logs for the previous instance of the container in a pod if it exists.",
        )
        parser.add_argument(
            "--tail",
            type=int,
            default=None,
            help="Lines of recent log file to display. Defaults to -1 with no selector, showing all "
            "log lines otherwise 10, if a selector is provided.",
        )
        parser.add_argument(
            "-f", "--follow", action="store_true", help="Specify if the logs should be streamed."
        )
        parser.add_argument("-l", "--selector", help="Selector (label query) to filter on.")
        parser.add_argument(
            "--all-containers", action="store_true", help="Get all containers' logs in the pod(s)."
        )
        parser.add_argument(
            "--prefix",
            action="store_true",
            help="Prefix each log line with the log source (pod name and container name).",
        )
        parser.add_argument(
            "--max-log-requests",
            type=int,
            default=5,
            help="Maximum number of concurrent logs to follow when using by a selector. Defaults to 5.",
        )
        args = self._parse(parser, argv)
        namespace = self._namespace(args)
        container = args.container or args.container_arg
        if args.selector and args.target:
            raise UsageError("error: only one of a selector or a resource name may be given")
        if args.selector:
            pods = self.api.list("pods", namespace=namespace, label_selector=args.selector)["items"]
            if not pods:
                return Output(f"No resources found in {namespace} namespace.")
            tail = args.tail if args.tail is not None else 10
        elif args.target:
            pods = [self._pod_target(args.target, namespace)]
            tail = args.tail if args.tail is not None else -1
        else:
            raise UsageError(
                "error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\n"
                "POD or TYPE/NAME is a required argument for the logs command\n"
                "See 'kubectl logs -h' for help and examples"
            )
        sources: list[tuple[Obj, str]] = []
        for pod in pods:
            if args.all_containers:
                spec = pod.get("spec", {})
                sources += [
                    (pod, c["name"]) for c in spec.get("initContainers", []) + spec.get("containers", [])
                ]
            else:
                sources.append((pod, self._container(pod, container)))
        if args.follow and len(sources) > args.max_log_requests:
            raise UsageError(
                f"error: you are attempting to follow {len(sources)} log streams, but maximum allowed "
                f"concurrency is {args.max_log_requests}, use --max-log-requests to increase the limit"
            )
        prefix = args.prefix or (len(sources) > 1 and args.follow)
        if args.follow:
            return self._follow(sources, namespace, tail, prefix)
        texts = []
        for pod, name in sources:
            text = self._read_logs(pod, name, previous=args.previous, tail=None if tail < 0 else tail)
            texts.append(_prefixed(text, pod, name) if prefix else text)
        return Output("".join(texts).rstrip("\n"))

    def _read_logs(self, pod: Obj, container: str, *, previous: bool = False, tail: int | None = None) -> str:
        plane, kubelets = self._kubelets()
        meta = pod["metadata"]
        return plane.run(
            kubelets.logs(meta["namespace"], meta["name"], container, previous=previous, tail=tail)
        )

    def _follow(
        self, sources: list[tuple[Obj, str]], namespace: str, tail: int, prefix: bool
    ) -> Output | None:
        """``logs -f``: every source's stream from the runtime at once (through the kubelet),
        each line printed as it comes, until every container has exited (or the kernel is
        interrupted: the streams are released then). Without a printer the lines are returned."""
        plane, kubelets = self._kubelets()
        loop = plane.loop
        if loop is None or not plane.running:
            raise NbClusterError(f"the cluster {self.cluster.name} is not running")
        lines: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        first = None if tail < 0 else tail

        async def one(pod: Obj, container: str) -> None:
            meta = pod["metadata"]
            head = f"[pod/{meta['name']}/{container}] " if prefix else ""
            async for line in kubelets.follow_logs(meta["namespace"], meta["name"], container, tail=first):
                lines.put(head + line)

        async def every() -> None:
            tasks = [asyncio.ensure_future(one(pod, container)) for pod, container in sources]
            try:
                await asyncio.gather(*tasks)
            finally:  # one stream failed (or we are cancelled): release the others
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

        future = asyncio.run_coroutine_threadsafe(every(), loop)
        future.add_done_callback(lambda _done: lines.put(None))
        kept: list[str] = []
        try:
            while True:
                try:
                    line = lines.get(timeout=0.25)  # short waits: Ctrl-C / interrupt gets through
                except queue.Empty:
                    continue
                if line is None:
                    break
                if not self._emit(line):
                    kept.append(line)
            future.result()
        except KeyboardInterrupt:
            future.cancel()
        except concurrent.futures.CancelledError:
            pass
        return Output("\n".join(kept)) if kept else None

    def exec(self, argv: list[str]) -> ExecOutput:
        command: list[str] = []
        if "--" in argv:
            cut = argv.index("--")
            argv, command = argv[:cut], argv[cut + 1 :]
        parser = _Parser("exec")
        parser.add_argument("target", nargs="?")
        parser.add_argument("legacy", nargs="*", help=argparse.SUPPRESS)
        parser.add_argument(
            "-c", "--container", help="Container name. If omitted, the first container is chosen."
        )
        parser.add_argument(
            "-i", "--stdin", action="store_true", help="Pass stdin to the container (not in a notebook)."
        )
        parser.add_argument("-t", "--tty", action="store_true", help="Stdin is a TTY (not in a notebook).")
        parser.add_argument(
            "-q", "--quiet", action="store_true", help="Only print output from the remote session."
        )
        args = self._parse(parser, argv)
        if args.legacy:
            raise UsageError(
                "error: exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead\n"
                "See 'kubectl exec -h' for help and examples"
            )
        if not args.target:
            raise UsageError("error: pod, type/name or --filename must be specified")
        if not command:
            raise UsageError("error: you must specify at least one command for the container")
        if args.tty:
            self._notice("Unable to use a TTY - input is not a terminal or the right kind of file")
        namespace = self._namespace(args)
        pod = self._pod_target(args.target, namespace)
        container = self._container(pod, args.container)
        phase = (pod.get("status") or {}).get("phase")
        if phase in ("Succeeded", "Failed"):
            raise UsageError(
                f"error: cannot exec into a container in a completed pod; current phase is {phase}"
            )
        plane, kubelets = self._kubelets()
        result = plane.run(kubelets.exec(namespace, pod["metadata"]["name"], container, command))
        output = (
            result.output if isinstance(result.output, str) else bytes(result.output).decode(errors="replace")
        )
        return ExecOutput(output.rstrip("\n"), int(result.exit_code))

    def _plane(self) -> Any:
        return self.cluster.plane

    def port_forward(self, argv: list[str]) -> Any:
        parser = _Parser("port-forward")
        parser.add_argument("target", nargs="?")
        parser.add_argument("ports", nargs="*")
        parser.add_argument(
            "--address",
            action="append",
            default=[],
            help="Addresses to listen on (comma separated). Only accepts IP addresses or localhost as a "
            "value. Default: localhost (127.0.0.1).",
        )
        parser.add_argument(
            "--list", action="store_true", help="List the port-forwards running in the background."
        )
        parser.add_argument(
            "--stop",
            nargs="?",
            const="all",
            default=None,
            help="Stop port-forwards: all (the default), one LOCAL_PORT, or those of TYPE/NAME.",
        )
        parser.add_argument("--pod-running-timeout", help="Accepted for compatibility.")
        args = self._parse(parser, argv)
        plane = self._plane()
        if args.list:
            return self._forward_table(plane.forwards.forwards())
        if args.stop is not None:
            what = args.stop if args.stop != "all" else (args.target or "all")
            namespace = None if what == "all" or what.isdigit() else self._namespace(args)
            stopped = plane.run(plane.forwards.stop(what, namespace))
            if not stopped:
                return Output("No port-forwards to stop.")
            return Output(
                "\n".join("Stopped " + f.line().replace("Forwarding", "forwarding", 1) for f in stopped)
            )
        if not args.target or not args.ports:
            raise UsageError(
                "error: TYPE/NAME and list of ports are required for port-forward\n"
                "See 'kubectl port-forward -h' for help and examples"
            )
        namespace = self._namespace(args)
        forwards = plane.run(plane.forwards.forward(namespace, args.target, args.ports, args.address or None))
        return Output("\n".join(f.line() for f in forwards))

    def _forward_table(self, forwards: list[Any]) -> pd.DataFrame:
        now = self._now()
        rows = [
            [
                f.namespace,
                f.target,
                f"{f.address}:{f.local_port}",
                f.remote,
                str(f.connections),
                human_duration((now - f.started).total_seconds()),
            ]
            for f in forwards
        ]
        header = ["NAMESPACE", "TARGET", "LOCAL", "REMOTE", "CONNECTIONS", "AGE"]
        return mark(
            pd.DataFrame(rows, columns=header), "PortForward", None if rows else "No port-forwards running."
        )

    def service(self, argv: list[str]) -> Any:
        parser = _Parser("service")
        parser.add_argument("name", nargs="?")
        parser.add_argument(
            "--url",
            action="store_true",
            help="Print the service's URLs only (one per port) instead of a table.",
        )
        parser.add_argument("--all", action="store_true", help="Every service of the namespace.")
        parser.add_argument("--https", action="store_true", help="https:// URLs instead of http://.")
        args = self._parse(parser, argv)
        namespace = self._namespace(args)
        if args.all:
            services = [
                s
                for s in self.api.list("services", namespace=namespace)["items"]
                if s["metadata"]["name"] != "kubernetes" or namespace != "default"
            ]
        elif args.name:
            services = [self.api.get("services", args.name, namespace=namespace)]
        else:
            raise UsageError("error: exactly one service name is required (or --all)")
        plane = self._plane()
        if not plane.proxy.listen:
            raise UsageError(
                "error: services cannot be reached from the notebook on the simulated runtime: its pods "
                "run no processes"
            )
        scheme = "https" if args.https else "http"
        rows: list[list[str]] = []
        for svc in services:
            rows += self._service_urls(plane, svc, scheme)
        if args.url:
            return Output("\n".join(row[3] for row in rows if row[3]))
        header = ["NAMESPACE", "NAME", "TARGET PORT", "URL"]
        return mark(pd.DataFrame(rows, columns=header), "ServiceURL", None if rows else "No services found.")

    def _service_urls(self, plane: Any, svc: Obj, scheme: str) -> list[list[str]]:
        meta, spec = svc["metadata"], svc.get("spec") or {}
        namespace, name = meta["namespace"], meta["name"]
        kind = spec.get("type") or "ClusterIP"
        if kind == "ExternalName":
            return [[namespace, name, "", f"{spec.get('externalName', '')} (ExternalName: not proxied)"]]
        if spec.get("clusterIP") == "None":
            raise UsageError(
                f"error: service {namespace}/{name} is headless: it has no address of its own; "
                f"port-forward to one of its pods instead"
            )
        listening = plane.proxy.listening(namespace, name) if kind in ("NodePort", "LoadBalancer") else {}
        rows = []
        for port in spec.get("ports") or ():
            if (port.get("protocol") or "TCP") != "TCP":
                continue
            number = int(port["port"])
            label = f"{port['name']}/{number}" if port.get("name") else str(number)
            local = listening.get(number)
            if local is None:
                forward = plane.forwards.find_service_forward(namespace, name, str(number))
                if forward is None:
                    (forward,) = plane.run(plane.forwards.forward(namespace, f"svc/{name}", [f":{number}"]))
                local = forward.local_port
            rows.append([namespace, name, label, f"{scheme}://127.0.0.1:{local}"])
        return rows

    def top(self, argv: list[str]) -> Any:
        if not argv or argv[0] in ("-h", "--help"):
            raise _Help(_Parser("top").format_help() + "\n\nAvailable Commands:\n  node\n  pod")
        sub = argv[0]
        if sub not in ("node", "nodes", "no", "pod", "pods", "po"):
            close = difflib.get_close_matches(sub, ["node", "pod"], n=1)
            hint = f"\n\nDid you mean this?\n\t{close[0]}" if close else ""
            raise UsageError(f'error: unknown command "{sub}" for "kubectl top"{hint}')
        pods = sub.startswith("p")
        parser = _Parser(f"top {sub}", namespace=pods)
        parser.add_argument("name", nargs="?")
        parser.add_argument("-l", "--selector")
        parser.add_argument("-A", "--all-namespaces", action="store_true")
        parser.add_argument("--containers", action="store_true")
        parser.add_argument("--sort-by")
        parser.add_argument("--sum", action="store_true")
        parser.add_argument("--no-headers", action="store_true", help="Accepted for compatibility.")
        args = self._parse(parser, argv[1:])
        if args.sort_by not in (None, "cpu", "memory"):
            raise UsageError("error: --sort-by accepts only cpu or memory")
        metrics = getattr(self._plane(), "metrics", None)
        if metrics is None:
            raise RuntimeUnavailable("Metrics API not available")
        if pods:
            return self._top_pods(metrics, args)
        return self._top_nodes(metrics, args)

    def _top_pods(self, metrics: Any, args: argparse.Namespace) -> Any:
        from nbcluster.api.selectors import LabelSelector

        namespace = None if args.all_namespaces else self._namespace(args)
        selector = LabelSelector.parse(args.selector) if args.selector else None
        if args.name:
            self.api.get("pods", args.name, namespace=namespace)
        usages = [u for u in metrics.pod_metrics(namespace, selector) if not args.name or u.name == args.name]
        if not usages:
            scope = self.api.list("pods", namespace=namespace, label_selector=args.selector)["items"]
            if not scope and not args.name:
                where = "" if args.all_namespaces else f" in {namespace} namespace"
                return Output(f"No resources found{where}.")
            raise RuntimeUnavailable("metrics not available yet")
        key = {
            "cpu": lambda u: (-u.cpu_millis, u.namespace, u.name),
            "memory": lambda u: (-u.memory_bytes, u.namespace, u.name),
        }.get(args.sort_by, lambda u: (u.namespace, u.name))
        usages.sort(key=key)
        rows = []
        for usage in usages:
            prefix = [usage.namespace] if args.all_namespaces else []
            if args.containers:
                for c in usage.containers:
                    rows.append(
                        [*prefix, usage.name, c.name, f"{c.cpu_millis}m", f"{c.memory_bytes >> 20}Mi"]
                    )
            else:
                rows.append([*prefix, usage.name, f"{usage.cpu_millis}m", f"{usage.memory_bytes >> 20}Mi"])
        header = (["NAMESPACE"] if args.all_namespaces else []) + (["POD"] if args.containers else [])
        header += ["NAME", "CPU(cores)", "MEMORY(bytes)"]
        if args.sum:
            cpu = sum(u.cpu_millis for u in usages)
            memory = sum(u.memory_bytes for u in usages)
            rows.append([""] * (len(header) - 2) + ["________", "________"])
            rows.append([""] * (len(header) - 2) + [f"{cpu}m", f"{memory >> 20}Mi"])
        return mark(pd.DataFrame(rows, columns=header), "PodMetrics")

    def _top_nodes(self, metrics: Any, args: argparse.Namespace) -> Any:
        from nbcluster.api.quantities import cpu_millis, memory_bytes
        from nbcluster.api.selectors import LabelSelector

        if args.name:
            nodes = [self.api.get("nodes", args.name)]
        else:
            nodes = self.api.list("nodes", label_selector=args.selector)["items"]
            if args.selector:
                LabelSelector.parse(args.selector)
        if not nodes:
            return Output("No resources found")
        usage = metrics.node_metrics([n["metadata"]["name"] for n in nodes])
        if not usage:
            raise RuntimeUnavailable("metrics not available yet")
        rows = []
        for node in nodes:
            name = node["metadata"]["name"]
            allocatable = (node.get("status") or {}).get("allocatable") or {}
            if name not in usage:
                rows.append([name, "<unknown>", "<unknown>", "<unknown>", "<unknown>"])
                continue
            cpu, memory = usage[name]
            cpu_total = cpu_millis(allocatable.get("cpu", "0"))
            memory_total = memory_bytes(allocatable.get("memory", "0"))
            rows.append(
                [
                    name,
                    f"{cpu}m",
                    f"{int(cpu / cpu_total * 100) if cpu_total else 0}%",
                    f"{memory >> 20}Mi",
                    f"{int(memory / memory_total * 100) if memory_total else 0}%",
                ]
            )
        if args.sort_by == "cpu":
            rows.sort(key=lambda r: -usage.get(r[0], (0, 0))[0])
        elif args.sort_by == "memory":
            rows.sort(key=lambda r: -usage.get(r[0], (0, 0))[1])
        header = ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
        return mark(pd.DataFrame(rows, columns=header), "NodeMetrics")

    # -- events, explain, api-resources ----------------------------------------

    def events(self, argv: list[str]) -> Any:
        parser = _Parser("events")
        parser.add_argument(
            "-A",
            "--all-namespaces",
            action="store_true",
            help="If present, list the requested object(s) across all namespaces.",
        )
        parser.add_argument(
            "--for",
            dest="for_object",
            help="Filter events to only those pertaining to the specified resource.",
        )
        parser.add_argument("--types", action="append", default=[], help="Output only events of given types.")
        parser.add_argument("-o", "--output", help="Output format: json or yaml.")
        parser.add_argument("--no-headers", action="store_true", help="Accepted for compatibility.")
        args = self._parse(parser, argv)
        types = sorted({t for spec in args.types for t in spec.split(",") if t})
        for each in types:
            if each.lower() not in ("normal", "warning"):
                raise UsageError("error: valid --types are Normal or Warning")
        namespace = None if args.all_namespaces else self._namespace(args)
        field_selector = None
        if args.for_object:
            if "/" not in args.for_object:
                raise UsageError("error: --for must be in resource/name form")
            kind, _, name = args.for_object.partition("/")
            info = resources.resolve(kind)
            field_selector = f"involvedObject.kind={info.kind},involvedObject.name={name}"
        items = self.api.list("events", namespace=namespace, field_selector=field_selector)["items"]
        if types:
            items = [e for e in items if str(e.get("type", "")).lower() in {t.lower() for t in types}]
        items.sort(key=_event_time)
        if args.output in ("yaml", "json"):
            payload = {
                "apiVersion": "v1",
                "items": items,
                "kind": "EventList",
                "metadata": {"resourceVersion": ""},
            }
            return Output(
                dump_yaml(payload) if args.output == "yaml" else json.dumps(payload, indent=4, sort_keys=True)
            )
        if args.output:
            raise UsageError(
                f'error: unable to match a printer suitable for the output format "{args.output}", '
                "allowed formats are: json,yaml"
            )
        now = self._now()
        rows = []
        for event in items:
            cells = [
                _event_interval(event, now),
                event.get("type", ""),
                event.get("reason", ""),
                f"{event.get('involvedObject', {}).get('kind', '')}/{event.get('involvedObject', {}).get('name', '')}",
                str(event.get("message", "")).strip(),
            ]
            if args.all_namespaces:
                cells.insert(0, event["metadata"].get("namespace", ""))
            rows.append(cells)
        header = ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
        if args.all_namespaces:
            header = ["NAMESPACE", *header]
        message = "No events found." if args.all_namespaces else f"No events found in {namespace} namespace."
        return mark(pd.DataFrame(rows, columns=header), "Event", message if not rows else None)

    def explain(self, argv: list[str]) -> Output:
        parser = _Parser("explain", namespace=False)
        parser.add_argument("target", nargs="?")
        parser.add_argument(
            "--recursive", action="store_true", help="Print the fields of fields (indefinitely)."
        )
        parser.add_argument("--api-version", help="The API version (group/version) of the resource.")
        parser.add_argument("-o", "--output", default="plaintext", help="plaintext only.")
        args = self._parse(parser, argv)
        if not args.target:
            raise UsageError(
                'error: You must specify the type of resource to explain. Use "kubectl api-resources" '
                "for a complete list of supported resources."
            )
        return Output(
            explain_text(args.target, api_version=args.api_version, recursive=args.recursive).rstrip("\n")
        )

    def api_resources(self, argv: list[str]) -> Any:
        parser = _Parser("api-resources", namespace=False)
        parser.add_argument("-o", "--output", help="Output format: wide or name.")
        parser.add_argument("--namespaced", help="If false, non-namespaced resources will be returned.")
        parser.add_argument("--api-group", help="Limit to resources in the specified API group.")
        parser.add_argument("--sort-by", help="name or kind.")
        parser.add_argument(
            "--verbs", action="append", default=[], help="Limit to resources that support these verbs."
        )
        parser.add_argument("--no-headers", action="store_true", help="Accepted for compatibility.")
        args = self._parse(parser, argv)
        if args.output not in (None, "wide", "name"):
            raise UsageError(f"error: --output {args.output} is not available")
        infos = list(resources.RESOURCES)
        if args.namespaced is not None:
            infos = [i for i in infos if str(i.namespaced).lower() == args.namespaced.lower()]
        if args.api_group is not None:
            infos = [i for i in infos if i.group == args.api_group]
        verbs = {v for spec in args.verbs for v in spec.split(",") if v}
        if verbs:
            infos = [i for i in infos if verbs <= set(i.verbs)]
        if args.sort_by == "name":
            infos.sort(key=lambda i: i.plural)
        elif args.sort_by == "kind":
            infos.sort(key=lambda i: i.kind)
        if args.output == "name":
            return Output("\n".join(i.group_resource for i in infos))
        rows = []
        for info in infos:
            cells = [
                info.plural,
                ",".join(info.short_names),
                info.api_version,
                "true" if info.namespaced else "false",
                info.kind,
            ]
            if args.output == "wide":
                cells += [",".join(info.verbs), ",".join(info.categories)]
            rows.append(cells)
        header = ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
        if args.output == "wide":
            header += ["VERBS", "CATEGORIES"]
        return mark(pd.DataFrame(rows, columns=header), "APIResource")

    # -- contexts and clusters -------------------------------------------------

    _CONFIG = ("current-context", "get-clusters", "get-contexts", "set-context", "use-context", "use", "view")

    def config(self, argv: list[str]) -> Any:
        if not argv or argv[0] in ("-h", "--help"):
            raise _Help(
                _Parser("config").format_help()
                + "\n\nAvailable Commands:\n"
                + "\n".join(f"  {sub}" for sub in self._CONFIG if sub != "use")
            )
        sub, rest = argv[0], argv[1:]
        if sub not in self._CONFIG:
            close = difflib.get_close_matches(sub, list(self._CONFIG), n=1)
            hint = f"\n\nDid you mean this?\n\t{close[0]}" if close else ""
            raise UsageError(f'error: unknown command "{sub}" for "kubectl config"{hint}')
        registry = self.registry
        parser = _Parser(f"config {sub}", namespace=False)
        if sub == "view":
            parser.add_argument("--minify", action="store_true", help="Only the current context.")
            parser.add_argument("--raw", action="store_true", help="Accepted for compatibility.")
            parser.add_argument("--flatten", action="store_true", help="Accepted for compatibility.")
            parser.add_argument("-o", "--output", default="yaml", help="yaml, json or jsonpath=…")
            args = self._parse(parser, rest)
            config = registry.kubeconfig(minify=args.minify)
            fmt, _, param = str(args.output).partition("=")
            if fmt == "json":
                return Output(json.dumps(config, indent=4))
            if fmt == "jsonpath":
                return Output(JSONPath(param).execute(config))
            return Output(dump_yaml(config).rstrip("\n"))
        if sub == "current-context":
            self._parse(parser, rest)
            if registry.current_name is None:
                raise UsageError("error: current-context is not set")
            return Output(registry.current_name)
        if sub == "get-clusters":
            self._parse(parser, rest)
            return Output("\n".join(["NAME", *registry.names()]))
        if sub == "get-contexts":
            parser.add_argument("name", nargs="?")
            parser.add_argument("-o", "--output", help="name")
            parser.add_argument("--no-headers", action="store_true")
            args = self._parse(parser, rest)
            names = registry.names()
            if args.name:
                if args.name not in names:
                    raise UsageError(f"error: context {args.name} not found")
                names = [args.name]
            if args.output == "name":
                return Output("\n".join(names))
            rows = [
                [
                    "*" if name == registry.current_name else "",
                    name,
                    name,
                    name,
                    "" if registry.get(name).namespace == "default" else registry.get(name).namespace,
                ]
                for name in names
            ]
            return mark(
                pd.DataFrame(rows, columns=["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"]), "Context"
            )
        if sub in ("use-context", "use"):
            parser.add_argument("name")
            args = self._parse(parser, rest)
            registry.use(args.name)
            return Output(f'Switched to context "{args.name}".')
        parser.add_argument("name", nargs="?")
        parser.add_argument("--current", action="store_true", help="Modify the current context.")
        parser.add_argument("--namespace", help="The default namespace of the context.")
        parser.add_argument("--cluster", help="Accepted for compatibility (contexts are clusters here).")
        parser.add_argument("--user", help="Accepted for compatibility.")
        args = self._parse(parser, rest)
        if args.current and args.name:
            raise UsageError("error: you cannot specify both a context name and --current")
        name = registry.current_name if args.current else args.name
        if name is None:
            raise UsageError("error: you must specify a non-empty context name or --current")
        if name not in registry:
            raise UsageError(
                f'error: no context exists with the name: "{name}" (contexts are clusters here: '
                f"cluster create {name})"
            )
        if args.namespace is not None:
            registry.get(name).namespace = args.namespace or "default"
            registry.write_kubeconfig()
        return Output(f'Context "{name}" modified.')

    def cluster_verb(self, argv: list[str]) -> Any:
        subs = ("create", "delete", "list")
        if not argv or argv[0] in ("-h", "--help"):
            raise _Help(
                _Parser("cluster").format_help()
                + "\n\nAvailable Commands:\n"
                + "\n".join(f"  {sub}" for sub in subs)
            )
        sub, rest = argv[0], argv[1:]
        aliases = {"ls": "list", "get": "list", "rm": "delete"}
        sub = aliases.get(sub, sub)
        if sub not in subs:
            close = difflib.get_close_matches(sub, list(subs), n=1)
            hint = f"\n\nDid you mean this?\n\t{close[0]}" if close else ""
            raise UsageError(f'error: unknown command "{sub}" for "kubectl cluster"{hint}')
        registry = self.registry
        parser = _Parser(f"cluster {sub}", namespace=False)
        if sub == "list":
            parser.add_argument("-o", "--output", help="name")
            args = self._parse(parser, rest)
            if args.output == "name":
                return Output("\n".join(registry.names()))
            rows = []
            for name in registry.names():
                cluster = registry.get(name)
                nodes = cluster.api.cached_list("nodes")
                servers = [
                    n
                    for n in nodes
                    if "node-role.kubernetes.io/control-plane" in (n["metadata"].get("labels") or {})
                ]
                agents = [n for n in nodes if n not in servers]
                specs = cluster.options.nodes
                want_servers = sum(1 for s in specs if s.control_plane)
                rows.append(
                    [
                        name,
                        f"{sum(map(_node_ready, servers))}/{want_servers}",
                        f"{sum(map(_node_ready, agents))}/{len(specs) - want_servers}",
                        cluster.runtime.name,
                        "*" if name == registry.current_name else "",
                    ]
                )
            return mark(
                pd.DataFrame(rows, columns=["NAME", "SERVERS", "AGENTS", "RUNTIME", "CURRENT"]), "Cluster"
            )
        parser.add_argument("name")
        if sub == "create":
            parser.add_argument("-a", "--agents", type=int, default=0, help="Number of agent nodes.")
            parser.add_argument("--runtime", default="auto", help="auto, docker, process or simulated.")
            args = self._parse(parser, rest)
            cluster = registry.create(args.name, agents=args.agents, runtime=args.runtime)
            agents = f"{args.agents} agent{'s' if args.agents != 1 else ''}"
            return Output(
                f'Cluster "{args.name}" created: 1 control-plane node and {agents} on the '
                f"{cluster.runtime.name} runtime ({cluster.runtime_reason}).\n"
                f'Switched to context "{args.name}".'
            )
        args = self._parse(parser, rest)
        current = registry.delete(args.name)
        lines = [f'Cluster "{args.name}" deleted.']
        if current:
            lines.append(f'Current context: "{current}".')
        return Output("\n".join(lines))


# ------------------------------------------------------------------------ helpers

_CREATE_SUBCOMMANDS = {
    "namespace": "Namespace",
    "ns": "Namespace",
    "deployment": "Deployment",
    "deploy": "Deployment",
    "configmap": "ConfigMap",
    "cm": "ConfigMap",
    "secret": "Secret",
}


def _what(document: Any) -> str:
    """``Deployment "web" at <cell>:12``: which object of which input a message is about."""
    meta = document.obj.get("metadata") if isinstance(document.obj.get("metadata"), dict) else {}
    name = meta.get("name") or meta.get("generateName") or "?"
    return f'{document.obj.get("kind", "?")} "{name}" at {document.source}:{document.line}'


def _custom_columns(spec: str, items: list[Obj]) -> pd.DataFrame:
    """``-o custom-columns=HEADER:.path,…`` (cli-runtime's CustomColumnsPrinter)."""
    headers, parsers = [], []
    for part in spec.split(","):
        header, sep, path = part.partition(":")
        if not sep:
            raise UsageError(
                f"error: unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>"
            )
        headers.append(header)
        parsers.append(JSONPath(relaxed(path)))
    rows = []
    for obj in items:
        cells = []
        for parser in parsers:
            values = parser.find(obj)
            texts = [go_sprint(v) for group in values for v in group]
            cells.append(",".join(texts) if values and values[0] else "<none>")
        rows.append(cells)
    kind = items[0].get("kind", "") if items else ""
    return mark(pd.DataFrame(rows, columns=headers), f"custom:{kind}")


def _natural_key(text: str) -> list[Any]:
    return [
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text) if part
    ]


def _sort(items: list[Obj], expression: str) -> list[Obj]:
    """``--sort-by``: numbers numerically, strings in natural order, missing values first."""
    path = JSONPath(relaxed(expression))
    keyed = []
    found_any = False
    for obj in items:
        values = [v for group in path.find(obj) for v in group]
        value = values[0] if values else None
        found_any = found_any or bool(values)
        if value is None:
            key: tuple[Any, ...] = (0, 0, [])
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            key = (1, value, [])
        else:
            key = (2, 0, _natural_key(go_sprint(value)))
        keyed.append((key, obj))
    if items and not found_any:
        raise UsageError(
            f'error: couldn\'t find any field with path "{relaxed(expression)}" in the list of objects'
        )
    return [obj for _, obj in sorted(keyed, key=lambda pair: pair[0])]


def _selector_text(selector: Obj) -> str:
    parts = [f"{k}={v}" for k, v in (selector.get("matchLabels") or {}).items()]
    for expr in selector.get("matchExpressions") or []:
        op, key, values = expr.get("operator"), expr.get("key"), ",".join(expr.get("values") or [])
        parts.append(
            {
                "In": f"{key} in ({values})",
                "NotIn": f"{key} notin ({values})",
                "Exists": key,
                "DoesNotExist": f"!{key}",
            }.get(op, key)
        )
    return ",".join(parts)


def _active_pod_rank(pod: Obj) -> tuple[Any, ...]:
    status = pod.get("status") or {}
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or []
    )
    phase_rank = {"Running": 0, "Pending": 1}.get(status.get("phase", ""), 2)
    return (phase_rank, not ready, pod["metadata"].get("creationTimestamp", ""), pod["metadata"]["name"])


def _prefixed(text: str, pod: Obj, container: str) -> str:
    head = f"[pod/{pod['metadata']['name']}/{container}] "
    return "".join(head + line for line in text.splitlines(keepends=True))


def _node_ready(node: Obj) -> int:
    return int(
        any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in (node.get("status") or {}).get("conditions") or []
        )
    )


def _event_time(event: Obj) -> str:
    series = event.get("series") or {}
    return str(series.get("lastObservedTime") or event.get("lastTimestamp") or event.get("eventTime") or "")


def _since(value: Any, now: Any) -> str:
    if not value:
        return "<unknown>"
    try:
        return human_duration((now - parse_time(str(value))).total_seconds())
    except (ValueError, TypeError):
        return "<unknown>"


def _event_interval(event: Obj, now: Any) -> str:
    """kubectl events' LAST SEEN cell (``getInterval``)."""
    first = (
        _since(event.get("eventTime"), now)
        if event.get("eventTime")
        else _since(event.get("firstTimestamp"), now)
    )
    series = event.get("series")
    if series:
        return f"{_since(series.get('lastObservedTime'), now)} (x{series.get('count', 1)} over {first})"
    count = int(event.get("count") or 0)
    if count > 1:
        return f"{_since(event.get('lastTimestamp'), now)} (x{count} over {first})"
    return first


def _seconds(text: str) -> float:
    """A Go duration (``90s``, ``2m``, ``1h30m``) or plain seconds."""
    text = str(text).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    total, pos = 0.0, 0
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    for match in re.finditer(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * units[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise UsageError(f'error: invalid duration "{text}"')
    return total


def _pod_spec_of(obj: Obj) -> Obj:
    kind = obj.get("kind")
    if kind == "Pod":
        return obj["spec"]
    if kind == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]


def _template_patch_path(kind: str) -> list[str]:
    if kind == "Pod":
        return ["spec"]
    if kind == "CronJob":
        return ["spec", "jobTemplate", "spec", "template", "spec"]
    return ["spec", "template", "spec"]


def _describe_template(template: Obj) -> str:
    labels = (template.get("metadata") or {}).get("labels") or {}
    lines = [
        "Pod Template:",
        f"  Labels:\t{','.join(f'{k}={v}' for k, v in sorted(labels.items())) or '<none>'}",
        "  Containers:",
    ]
    for container in (template.get("spec") or {}).get("containers", []):
        lines.append(f"   {container['name']}:")
        lines.append(f"    Image:\t{container.get('image', '')}")
    return "\n".join(lines)


def rollout_status_message(kind: str, obj: Obj) -> tuple[str, bool]:
    """kubectl's rollout status wording (polymorphichelpers/rollout_status.go) and whether it is done."""
    name = obj["metadata"]["name"]
    spec, status = obj.get("spec", {}), obj.get("status", {}) or {}
    generation = obj["metadata"].get("generation", 0)
    if kind == "Deployment":
        if generation > status.get("observedGeneration", 0):
            return "Waiting for deployment spec update to be observed...", False
        for condition in status.get("conditions", []):
            if (
                condition.get("type") == "Progressing"
                and condition.get("reason") == "ProgressDeadlineExceeded"
            ):
                raise UsageError(f'error: deployment "{name}" exceeded its progress deadline')
        replicas = spec.get("replicas", 1)
        updated = status.get("updatedReplicas", 0)
        total = status.get("replicas", 0)
        available = status.get("availableReplicas", 0)
        if updated < replicas:
            return (
                f'Waiting for deployment "{name}" rollout to finish: {updated} out of {replicas} new replicas '
                "have been updated..."
            ), False
        if total > updated:
            return (
                f'Waiting for deployment "{name}" rollout to finish: {total - updated} old replicas are '
                "pending termination..."
            ), False
        if available < updated:
            return (
                f'Waiting for deployment "{name}" rollout to finish: {available} of {updated} updated '
                "replicas are available..."
            ), False
        return f'deployment "{name}" successfully rolled out', True
    if kind == "StatefulSet":
        if generation > status.get("observedGeneration", 0):
            return "Waiting for statefulset spec update to be observed...", False
        replicas = spec.get("replicas", 1)
        ready = status.get("readyReplicas", 0)
        if ready < replicas:
            return f"Waiting for {replicas - ready} pods to be ready...", False
        strategy = (spec.get("updateStrategy") or {}).get("type", "RollingUpdate")
        if strategy != "RollingUpdate":
            return f"rolling update strategy {strategy} does not support status", True
        if status.get("updateRevision") != status.get("currentRevision"):
            return (
                f"waiting for statefulset rolling update to complete {status.get('updatedReplicas', 0)} pods "
                f"at revision {status.get('updateRevision')}..."
            ), False
        return (
            f"statefulset rolling update complete {status.get('currentReplicas', replicas)} pods at revision "
            f"{status.get('currentRevision')}..."
        ), True
    if generation > status.get("observedGeneration", 0):
        return "Waiting for daemon set spec update to be observed...", False
    desired = status.get("desiredNumberScheduled", 0)
    updated = status.get("updatedNumberScheduled", 0)
    available = status.get("numberAvailable", 0)
    if updated < desired:
        return (
            f'Waiting for daemon set "{name}" rollout to finish: {updated} out of {desired} new pods have '
            "been updated..."
        ), False
    if available < desired:
        return (
            f'Waiting for daemon set "{name}" rollout to finish: {available} of {desired} updated pods are '
            "available..."
        ), False
    return f'daemon set "{name}" successfully rolled out', True
