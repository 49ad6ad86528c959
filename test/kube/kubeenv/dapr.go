package kubeenv

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
)

const (
	injectorService = "dapr-sidecar-injector"
	injectorWebhook = "dapr-sidecar-injector" // the name the injector patches
	trustDomain     = "cluster.local"
)

// startDapr runs sentry and the sidecar injector and registers the injector
// as a mutating webhook, the way Dapr's Helm chart does (Service
// dapr-sidecar-injector in the control-plane namespace, port 443, path
// /mutate), with failurePolicy Fail so that a broken injection shows as a
// refused Pod rather than a Pod without sidecar.
//
// Sentry runs standalone: it signs the injector's serving certificate (DNS
// name dapr-sidecar-injector.<namespace>.svc, which the API server checks)
// with its insecure validator, from a trust bundle written here; in a cluster sentry would validate the
// injector's service-account token instead. The injector itself runs in
// Kubernetes mode against the API server and patches the webhook's caBundle
// with sentry's trust anchors, as in a cluster.
//
// One difference from a cluster: the injector adds daprd's projected sentry
// token (volume dapr-identity-token) only when it finds a service-account
// token on its own filesystem; outside a Pod it finds none, so the Pods it
// patches here lack that volume and its mount.
func (e *Env) startDapr(ctx context.Context, daprBin, injBin string) error {
	e.DaprNamespace = "dapr-system"
	cs, err := kubernetes.NewForConfig(e.Config)
	if err != nil {
		return err
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: e.DaprNamespace},
	}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}

	// sentry
	ports, err := freePorts(4)
	if err != nil {
		return err
	}
	sentryPort, sentryHealth, injPort, injHealth := ports[0], ports[1], ports[2], ports[3]
	creds := e.path("sentry")
	if err := os.MkdirAll(creds, 0o700); err != nil {
		return err
	}
	ca, err := writeSentryCredentials(creds)
	if err != nil {
		return err
	}
	sentryConf := e.path("sentry-config.yaml")
	if err := os.WriteFile(sentryConf, []byte(`apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: daprsystem
spec:
  mtls:
    enabled: true
`), 0o600); err != nil {
		return err
	}
	sentry, err := e.start("sentry", filepath.Join(daprBin, "sentry"), []string{
		"--mode=standalone",
		"--config=" + sentryConf,
		"--issuer-credentials=" + creds,
		"--trust-domain=" + trustDomain,
		"--listen-address=127.0.0.1",
		"--port=" + strconv.Itoa(sentryPort),
		"--healthz-listen-address=127.0.0.1",
		"--healthz-port=" + strconv.Itoa(sentryHealth),
		"--enable-metrics=false",
	}, []string{"NAMESPACE=" + e.DaprNamespace})
	if err != nil {
		return err
	}
	healthURL := func(port int) string { return fmt.Sprintf("http://127.0.0.1:%d/healthz", port) }
	if err := sentry.waitFor(ctx, 30*time.Second, "healthz", httpOK(http.DefaultClient, healthURL(sentryHealth), "")); err != nil {
		return err
	}
	caFile := filepath.Join(creds, "ca.crt")

	// The Service the webhook points at. It has no endpoints: the API server
	// resolves it to its ClusterIP and the egress proxy takes it from there.
	svc, err := cs.CoreV1().Services(e.DaprNamespace).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: injectorService},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{
			Name: "https", Port: 443, TargetPort: intstr.FromInt32(int32(injPort)),
		}}},
	}, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	e.egress.route(net.JoinHostPort(svc.Spec.ClusterIP, "443"), net.JoinHostPort("127.0.0.1", strconv.Itoa(injPort)))

	fail := admissionv1.Fail
	none := admissionv1.SideEffectClassNone
	ifNeeded := admissionv1.IfNeededReinvocationPolicy
	path := "/mutate"
	timeout := int32(10)
	if _, err := cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, &admissionv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: injectorWebhook},
		Webhooks: []admissionv1.MutatingWebhook{{
			Name:               "sidecar-injector.dapr.io",
			ReinvocationPolicy: &ifNeeded,
			ClientConfig: admissionv1.WebhookClientConfig{
				Service:  &admissionv1.ServiceReference{Namespace: e.DaprNamespace, Name: injectorService, Path: &path},
				CABundle: ca,
			},
			Rules: []admissionv1.RuleWithOperations{{
				Operations: []admissionv1.OperationType{admissionv1.Create},
				Rule:       admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}},
			}},
			FailurePolicy:           &fail,
			SideEffects:             &none,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1", "v1beta1"},
		}},
	}, metav1.CreateOptions{}); err != nil {
		return err
	}

	injKubeconfig := e.path("injector.kubeconfig")
	if err := e.writeKubeconfig(injKubeconfig); err != nil {
		return err
	}
	inj, err := e.start("injector", filepath.Join(injBin, "injector"), []string{
		"--kubeconfig=" + injKubeconfig,
		"--port=" + strconv.Itoa(injPort),
		"--healthz-listen-address=127.0.0.1",
		"--healthz-port=" + strconv.Itoa(injHealth),
		"--enable-metrics=false",
	}, []string{
		// As Dapr's chart sets them (charts/dapr/charts/dapr_sidecar_injector).
		"NAMESPACE=" + e.DaprNamespace,
		"SIDECAR_IMAGE=daprio/daprd:" + e.DaprVersion,
		"SIDECAR_IMAGE_PULL_POLICY=IfNotPresent",
		"SIDECAR_RUN_AS_NON_ROOT=true",
		"SIDECAR_READ_ONLY_ROOT_FILESYSTEM=true",
		"SIDECAR_DROP_ALL_CAPABILITIES=false",
		"ENABLE_K8S_DOWNWARD_APIS=false",
		"NATIVE_SIDECAR_ENABLED=false",
		"ACTORS_ENABLED=true",
		"KUBE_CLUSTER_DOMAIN=" + trustDomain,
		"DAPR_TRUST_ANCHORS_FILE=" + caFile,
		"DAPR_CONTROL_PLANE_TRUST_DOMAIN=" + trustDomain,
		"DAPR_SENTRY_ADDRESS=" + net.JoinHostPort("127.0.0.1", strconv.Itoa(sentryPort)),
		// In Kubernetes mode Dapr refuses to run as root (it would in a
		// container); these machines run tests as root.
		"DAPR_UNSAFE_SKIP_CONTAINER_UID_GID_CHECK=true",
	})
	if err != nil {
		return err
	}
	// Healthy once it has its certificate, serves, and has patched the webhook.
	if err := inj.waitFor(ctx, 60*time.Second, "healthz", httpOK(http.DefaultClient, healthURL(injHealth), "")); err != nil {
		return err
	}
	// The API server's webhook informer and the egress path: a dry-run Pod
	// that asks for a sidecar must come back with one (system:masters is
	// allowed to get sidecars, like the controllers' service accounts).
	probe := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "kubeenv-injector-probe", Annotations: map[string]string{
			"dapr.io/enabled": "true", "dapr.io/app-id": "kubeenv-probe",
		}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "probe"}}},
	}
	err = inj.waitFor(ctx, 30*time.Second, "a sidecar in a dry-run Pod", func(ctx context.Context) error {
		got, err := cs.CoreV1().Pods(e.DaprNamespace).Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			return err
		}
		for _, c := range got.Spec.Containers {
			if c.Name == "daprd" {
				return nil
			}
		}
		return fmt.Errorf("dry-run Pod came back without a daprd container")
	})
	if err == nil {
		e.logf("kubeenv: Dapr %s sentry and sidecar injector ready", e.DaprVersion)
	}
	return err
}
