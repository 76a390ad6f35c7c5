
Ý
g
"
telemetry.sdk.language
python

telemetry.sdk.name
mlflow
!
telemetry.sdk.version
3.17.2ñî
ÓüµW'£¡ªOŒP—-ñ€Ž_éj±'×*
my_chatbot9‡—fº$ÑëA±·ˆ»$ÑëJ>
mlflow.traceRequestId%
#tr-d3fcb55727a3a1aa4f8f8c50972df180J
mlflow.spanType	
UNKNOWNJ'
mlflow.spanFunctionName

my_chatbotJ;
mlflow.spanInputs&2$
"
user_question
What is MLflow?JO
mlflow.spanOutputs9
7MLflow is an open-source platform for the ML lifecycle.J
mlflow.spanLogLevel
z