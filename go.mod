module github.com/owfuse/owfuse

go 1.26.8
