provider "aws" {
  region     = "us-west-2"
  access_key = "AKIAQJLMXTHEP5OCHMTT"
  secret_key = "3hlR4/WbCDQT61c4qTTzq/DkkFr9beO8iJF/l+lp"
}

resource "aws_s3_bucket" "logs" {
  bucket = "example-logs"
}
