"""Broker Academy (技术经纪人学院): training and certification of technology brokers."""
