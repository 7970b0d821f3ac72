package kube_test

import (
	"fmt"

	"github.com/stet-dev/stet/scan/kube"
)

func ExampleScan() {
	data := []byte(`apiVersion: batch/v1
kind: CronJob
metadata:
  name: report
spec:
  schedule: "@hourly"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: report
            image: python:3.12-slim
`)
	res, err := kube.Scan("cronjob.yaml", data)
	if err != nil {
		panic(err)
	}
	for _, r := range res.Refs {
		fmt.Printf("%d:%d %s\n%s:%s\n", r.Line, r.Column, r.Context, r.Name, r.Tag)
	}
	// Output:
	// 13:20 spec.jobTemplate.spec.template.spec.containers[0].image
	// docker.io/library/python:3.12-slim
}
