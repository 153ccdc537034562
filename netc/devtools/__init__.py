"""Developer tools that stand apart from the product's stages: the local OVN (and
etcd) sandbox that tests, benchmarks and ``netc sandbox`` start."""
